using ILGPU;
using Ranking.Compute;

namespace Ranking.Gpu.Kernels;

/// <summary>Gain codes inside kernels: the values of <see cref="Ranking.Metrics.GainKind"/>.</summary>
internal static class GainCode
{
    public const int Exponential = (int)Ranking.Metrics.GainKind.Exponential;
    public const int Linear = (int)Ranking.Metrics.GainKind.Linear;
    public const int Table = (int)Ranking.Metrics.GainKind.Table;
}

/// <summary>Kernel-side glue over <see cref="RankingMath"/>: dispatch only, no math of its own.</summary>
internal static class KernelMath
{
    /// <summary>
    /// Gain of a grade: a table gain reads the grade's entry (the host validated grades against the table,
    /// as the CPU path does; out-of-range indices are clamped only so a kernel cannot read out of bounds).
    /// </summary>
    public static double Gain(int kind, float grade, ArrayView<double> table)
    {
        if (kind == GainCode.Linear) return RankingMath.LinearGain(grade);
        if (kind == GainCode.Table)
        {
            int index = (int)grade;
            if (index < 0) index = 0;
            if (index >= table.IntLength) index = table.IntLength - 1;
            return table[index];
        }
        return RankingMath.ExponentialGain(grade);
    }
}
