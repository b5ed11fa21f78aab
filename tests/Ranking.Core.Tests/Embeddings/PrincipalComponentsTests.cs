using Ranking.Embeddings;

namespace Ranking.Core.Tests.Embeddings;

public class PrincipalComponentsTests
{
    [Fact]
    public void Recovers_known_axes_and_variances()
    {
        // Points a u + b w + 5 (an offset the centring removes) in 4-D, with u = (0.6, 0.8, 0, 0) and w = (0, 0, 0.8, -0.6)
        // orthonormal; a takes +-3 and b +-1 in every combination, so the covariance has eigenvalues 9 n/(n-1) and n/(n-1) on u and w.
        double[] u = [0.6, 0.8, 0, 0], w = [0, 0, 0.8, -0.6];
        var rows = new List<float>();
        var coords = new List<(double A, double B)>();
        foreach (double a in new[] { -3.0, 3.0 })
            foreach (double b in new[] { -1.0, 1.0 })
            {
                coords.Add((a, b));
                for (int j = 0; j < 4; j++) rows.Add((float)(a * u[j] + b * w[j] + 5));
            }
        var (projection, variance) = PrincipalComponents.Project(rows.ToArray(), 4, 4, 2);
        Assert.Equal(9 * 4 / 3.0, variance[0], 4);
        Assert.Equal(4 / 3.0, variance[1], 4);
        // Each axis's sign puts its largest component positive (0.8 in both), so the coordinates come back as a and b.
        for (int i = 0; i < 4; i++)
        {
            Assert.Equal(coords[i].A, projection[2 * i], 4);
            Assert.Equal(coords[i].B, projection[2 * i + 1], 4);
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => PrincipalComponents.Project(rows.ToArray(), 4, 4, 5));
    }
}
