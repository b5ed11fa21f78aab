using Ranking.Data;
using Ranking.Metrics;

namespace Ranking.Core.Tests.Metrics;

public class StatisticsTests
{
    [Theory]
    [InlineData(5.0, 24.0)]
    [InlineData(10.0, 362880.0)]
    [InlineData(0.5, 1.7724538509055160)] // sqrt(pi)
    [InlineData(1.0, 1.0)]
    public void LogGammaMatchesFactorials(double x, double gamma) => Assert.Equal(Math.Log(gamma), Statistics.LogGamma(x), 12);

    [Theory]
    [InlineData(0.3, 1.0, 1.0)]
    [InlineData(0.7, 2.5, 1.0)]
    [InlineData(0.2, 1.0, 4.0)]
    [InlineData(0.9, 1.0, 0.5)]
    public void IncompleteBetaClosedForms(double x, double a, double b)
    {
        // I_x(a, 1) = x^a; I_x(1, b) = 1 - (1-x)^b
        double expected = b == 1.0 ? Math.Pow(x, a) : 1 - Math.Pow(1 - x, b);
        Assert.Equal(expected, Statistics.RegularizedIncompleteBeta(x, a, b), 13);
    }

    [Fact]
    public void IncompleteBetaKnownValue() => Assert.Equal(0.6875, Statistics.RegularizedIncompleteBeta(0.5, 2, 3), 13);

    [Theory]
    [InlineData(-3.0)]
    [InlineData(-0.4)]
    [InlineData(0.0)]
    [InlineData(1.0)]
    [InlineData(7.5)]
    public void StudentTCdfMatchesClosedFormsForOneAndTwoDegreesOfFreedom(double t)
    {
        Assert.Equal(0.5 + Math.Atan(t) / Math.PI, Statistics.StudentTCdf(t, 1), 13);               // Cauchy
        Assert.Equal(0.5 + t / (2 * Math.Sqrt(t * t + 2)), Statistics.StudentTCdf(t, 2), 13);     // df = 2
    }

    [Theory]
    // critical values of t tables (two-sided 5%) and scipy.stats values: 2*t.sf(t, df), t.cdf(t, df)
    [InlineData(2.228138851986, 10, 0.05)]
    [InlineData(12.706204736175, 1, 0.05)]
    [InlineData(2.0, 10, 0.07338803477074039)]
    [InlineData(3.5, 4, 0.02489616346022275)]
    [InlineData(0.3, 30, 0.7662461052843528)]
    public void TwoSidedPValuesMatchKnownValues(double t, double df, double p) =>
        Assert.Equal(p, Statistics.StudentTTwoSidedPValue(t, df), 10);

    [Fact]
    public void FractionalDegreesOfFreedom() => Assert.Equal(0.06503304917866852, Statistics.StudentTCdf(-1.7, 7.5), 10);

    [Fact]
    public void LargeDegreesOfFreedomApproachTheNormal() => Assert.Equal(0.05, Statistics.StudentTTwoSidedPValue(1.959963984540054, 1e9), 6);

    [Fact]
    public void PairedTTestEdgeCases()
    {
        Assert.True(double.IsNaN(Statistics.PairedTTestPValue([0.1])));
        Assert.Equal(1.0, Statistics.PairedTTestPValue([0, 0, 0]));
        Assert.Equal(0.0, Statistics.PairedTTestPValue([0.2, 0.2, 0.2]));
        // mean 0.5, sd sqrt(1/3) over n=4 -> t = 0.5 / (sqrt(1/3) / 2) = sqrt(3) with 3 df
        Assert.Equal(Statistics.StudentTTwoSidedPValue(Math.Sqrt(3), 3), Statistics.PairedTTestPValue([0, 1, 0, 1]), 14);
    }
}

public class CompareTests
{
    private static RankingDataset Data(int queries, int seed, out float[] good, out float[] noisy)
    {
        var rng = new Random(seed);
        var offsets = new int[queries + 1];
        for (int q = 0; q < queries; q++) offsets[q + 1] = offsets[q] + rng.Next(2, 30);
        int rows = offsets[^1];
        float[] labels = Enumerable.Range(0, rows).Select(_ => (float)rng.Next(0, 3)).ToArray();
        good = labels.Select(y => y + (float)rng.NextDouble() * 1.5f).ToArray();
        noisy = labels.Select(y => y + (float)rng.NextDouble() * 6f).ToArray();
        return new RankingDataset(new float[0], 0, labels, offsets);
    }

    [Fact]
    public void ABetterScoreVectorIsSignificantAndTheIntervalHoldsTheDifference()
    {
        var data = Data(300, 1, out var good, out var noisy);
        var metrics = MetricSpec.ParseList("ndcg@10,map");
        var c = RankingEvaluator.Compare(data, good, noisy, metrics, NdcgContract.Default, seed: 5, resamples: 500);
        var ndcg = c["ndcg@10"];
        Assert.Equal(ndcg.Mean - ndcg.BaselineMean, ndcg.MeanDifference, 12);
        Assert.True(ndcg.MeanDifference > 0);
        Assert.True(ndcg.PValue < 1e-6, $"p = {ndcg.PValue}");
        Assert.True(ndcg.CiLow < ndcg.MeanDifference && ndcg.MeanDifference < ndcg.CiHigh);
        Assert.True(ndcg.CiLow > 0);
        // same seed, same interval; another seed, (slightly) another
        var again = RankingEvaluator.Compare(data, good, noisy, metrics, NdcgContract.Default, seed: 5, resamples: 500);
        Assert.Equal(ndcg.CiLow, again["ndcg@10"].CiLow);
        Assert.Equal(ndcg.CiHigh, again["ndcg@10"].CiHigh);
        var other = RankingEvaluator.Compare(data, good, noisy, metrics, NdcgContract.Default, seed: 6, resamples: 500);
        Assert.NotEqual(ndcg.CiLow, other["ndcg@10"].CiLow);
    }

    [Fact]
    public void ComparingScoresWithThemselvesGivesZero()
    {
        var data = Data(50, 2, out var good, out _);
        var c = RankingEvaluator.Compare(data, good, good, MetricSpec.ParseList("ndcg@5"), NdcgContract.Default, resamples: 100);
        Assert.Equal(0.0, c.Metrics[0].MeanDifference);
        Assert.Equal(1.0, c.Metrics[0].PValue);
        Assert.Equal(0.0, c.Metrics[0].CiLow);
        Assert.Equal(0.0, c.Metrics[0].CiHigh);
    }

    [Fact]
    public void TheTTestAgreesWithADirectComputationOnPerQueryDifferences()
    {
        var data = Data(40, 3, out var good, out var noisy);
        var metrics = MetricSpec.ParseList("ndcg@3");
        var a = RankingEvaluator.Evaluate(data, good, metrics, NdcgContract.Default);
        var b = RankingEvaluator.Evaluate(data, noisy, metrics, NdcgContract.Default);
        double[] d = a.PerQuery[0].Zip(b.PerQuery[0], (x, y) => x - y).ToArray();
        double mean = d.Average(), sd = Math.Sqrt(d.Sum(v => (v - mean) * (v - mean)) / (d.Length - 1));
        double t = mean / (sd / Math.Sqrt(d.Length));
        var c = RankingEvaluator.Compare(a, b, resamples: 50);
        Assert.Equal(Statistics.StudentTTwoSidedPValue(t, d.Length - 1), c.Metrics[0].PValue, 14);
    }
}

public class ScoresFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("scores-test").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string WriteText(string text)
    {
        string path = Path.Combine(_dir, Guid.NewGuid().ToString("N") + ".txt");
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void RoundTripsBitExact()
    {
        var rng = new Random(9);
        float[] scores = Enumerable.Range(0, 1000).Select(_ => (float)(rng.NextDouble() * 2e3 - 1e3) / 7f)
            .Concat([float.PositiveInfinity, float.NegativeInfinity, float.Epsilon, -0f, float.MaxValue, 1e-30f]).ToArray();
        string path = Path.Combine(_dir, "s.txt");
        ScoresFile.Write(path, scores);
        float[] back = ScoresFile.Read(path, scores.Length);
        Assert.Equal(scores.Select(BitConverter.SingleToInt32Bits), back.Select(BitConverter.SingleToInt32Bits));
    }

    [Fact]
    public void ReadsCommonSpellings()
    {
        float[] s = ScoresFile.Read(WriteText("1\n-2.5e3\n  0.25 \ninf\n-Infinity\n+inf\r\n3"), 7);
        Assert.Equal([1f, -2500f, 0.25f, float.PositiveInfinity, float.NegativeInfinity, float.PositiveInfinity, 3f], s);
    }

    [Theory]
    [InlineData("1\n2\nabc\n", 3, ":3:1:", "'abc' is not a number")]
    [InlineData("1\nNaN\n3\n", 3, ":2:1:", "NaN")]
    [InlineData("1\n2\n", 3, ":3", "ends after 2 scores, but the data has 3 rows")]
    [InlineData("1\n2\n3\n4\n", 3, ":4:1:", "more scores than the 3 rows")]
    [InlineData("1\n\n3\n", 3, ":2:1:", "empty line")]
    [InlineData("1\n2 3\n", 2, ":2:1:", "not a number")]
    public void BadFilesNameTheLine(string text, int rows, string where, string what)
    {
        string path = WriteText(text);
        var ex = Assert.Throws<RankingDataException>(() => ScoresFile.Read(path, rows));
        Assert.Contains(path + where, ex.Message);
        Assert.Contains(what, ex.Message);
    }

    [Fact]
    public void MissingFileAndNaNWrites()
    {
        Assert.Throws<FileNotFoundException>(() => ScoresFile.Read(Path.Combine(_dir, "none.txt"), 1));
        string path = Path.Combine(_dir, "nan.txt");
        Assert.Throws<ArgumentException>(() => ScoresFile.Write(path, [1f, float.NaN]));
        Assert.False(File.Exists(path));
    }
}
