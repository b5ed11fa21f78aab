using Ranking.Data;

namespace Ranking.Models;

/// <summary>
/// xoshiro256** seeded through SplitMix64: our own generator so that a seed means the same stream on
/// every runtime version and platform (System.Random's seeded algorithm is an implementation detail).
/// Used for initial weights, query shuffling and dropout.
/// </summary>
internal sealed class ModelRandom
{
    // The stream itself is the data generator's xoshiro256** (same seeding, same draws); this class adds
    // what training needs on top: unbiased bounded integers, Gaussians, shuffles and counter-based uniforms.
    private readonly SeededRandom _stream;

    public ModelRandom(ulong seed) => _stream = new SeededRandom(seed);

    /// <summary>SplitMix64's finaliser: a strong 64-bit hash, also used as a counter-based generator.</summary>
    public static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>A uniform float in [0, 1) from a counter: the same (key, index) gives the same value on any thread.</summary>
    public static float UniformAt(ulong key, ulong index) => (Mix(key ^ Mix(index + 0x632BE59BD9B4E019UL)) >> 40) * (1f / (1 << 24));

    public ulong NextUInt64() => _stream.NextUInt64();

    /// <summary>Uniform in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => _stream.NextDouble();

    /// <summary>Uniform integer in [0, bound) without modulo bias (Lemire's method).</summary>
    public int NextInt(int bound)
    {
        if (bound <= 0) throw new ArgumentOutOfRangeException(nameof(bound));
        ulong range = (ulong)bound;
        while (true)
        {
            ulong x = NextUInt64() >> 32;
            ulong m = x * range;
            ulong low = m & 0xFFFFFFFFUL;
            if (low >= range || low >= ((0x1_0000_0000UL - range) % range)) return (int)(m >> 32);
        }
    }

    /// <summary>Standard normal by Box-Muller (one value per call; the pair's second half is dropped for simplicity).</summary>
    public double NextGaussian()
    {
        double u1 = 1.0 - NextDouble(); // (0, 1]
        double u2 = NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }

    /// <summary>Fisher-Yates shuffle in place.</summary>
    public void Shuffle<T>(Span<T> items)
    {
        for (int i = items.Length - 1; i > 0; i--)
        {
            int j = NextInt(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }
}
