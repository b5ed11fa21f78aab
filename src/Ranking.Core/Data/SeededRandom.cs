namespace Ranking.Data;

/// <summary>
/// xoshiro256** seeded through SplitMix64: a small PRNG whose algorithm is fixed here, so a seed gives
/// the same stream on every machine and every .NET version (System.Random's algorithm may change).
/// Normal deviates use only integer sums and one scaling (Irwin–Hall), never libm functions whose last bit
/// may differ between platforms.
/// </summary>
public sealed class SeededRandom
{
    private ulong _s0, _s1, _s2, _s3;

    /// <summary>A generator whose stream depends on <paramref name="seed"/> alone (the four state words come from SplitMix64 of it).</summary>
    public SeededRandom(ulong seed)
    {
        ulong x = seed;
        _s0 = SplitMix64(ref x);
        _s1 = SplitMix64(ref x);
        _s2 = SplitMix64(ref x);
        _s3 = SplitMix64(ref x);
    }

    /// <summary>A stream derived from a seed and a stream number (one per query, one per purpose).</summary>
    public static SeededRandom For(ulong seed, ulong stream)
    {
        ulong x = seed ^ (stream * 0xD1B54A32D192ED03UL);
        return new SeededRandom(SplitMix64(ref x));
    }

    /// <summary>One SplitMix64 step: advances <paramref name="state"/> and returns a well-mixed 64-bit value (also a cheap hash of a seed).</summary>
    public static ulong SplitMix64(ref ulong state)
    {
        ulong z = state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>The next 64 uniformly distributed bits (xoshiro256**).</summary>
    public ulong NextUInt64()
    {
        ulong result = ulong.RotateLeft(_s1 * 5, 7) * 9;
        ulong t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = ulong.RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>Uniform in [0, 1), 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform integer in [0, n).</summary>
    public int NextInt(int n)
    {
        if (n <= 0) throw new ArgumentOutOfRangeException(nameof(n));
        return (int)(((NextUInt64() >> 32) * (ulong)n) >> 32);
    }

    /// <summary>
    /// Approximately standard normal, mean 0 and variance exactly 1: an Irwin–Hall sum of four 16-bit
    /// uniforms cut from one 64-bit draw, centred and scaled by sqrt(3) (tails end at ±3.46). Cheap
    /// (one draw) and made of exact integer and IEEE operations only.
    /// </summary>
    public double NextNormal()
    {
        ulong x = NextUInt64();
        ulong sum = (x & 0xFFFF) + ((x >> 16) & 0xFFFF) + ((x >> 32) & 0xFFFF) + (x >> 48);
        // each 16-bit value + 0.5 is uniform on (0, 65536); their sum has mean 4 * 32768
        return ((sum + 2.0) - 131072.0) * (1.7320508075688772 / 65536.0);
    }
}
