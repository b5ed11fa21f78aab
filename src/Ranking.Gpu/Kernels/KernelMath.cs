using Ranking.Numerics;
using ILGPU;
using Ranking.Compute;

namespace Ranking.Gpu.Kernels;

/// <summary>Gain codes inside kernels: the values of <see cref="GainKind"/>.</summary>
internal static class GainCode
{
    public const int Exponential = (int)GainKind.Exponential;
    public const int Linear = (int)GainKind.Linear;
    public const int Table = (int)GainKind.Table;
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

/// <summary>
/// Each row's gain, computed once per launch sequence (a kernel that counts ranks reads every other row's
/// gain of its query: computing 2^grade there would cost n pow calls per row).
/// </summary>
public sealed class GainKernels
{
    private readonly Action<Index1D, QueryArrays, int, ArrayView<double>, ArrayView<double>> _gains;

    /// <summary>Compiles the gain kernel on <paramref name="accelerator"/>.</summary>
    public GainKernels(ILGPU.Runtime.Accelerator accelerator)
    {
        _gains = ILGPU.Runtime.KernelLoaders.LoadAutoGroupedStreamKernel<Index1D, QueryArrays, int, ArrayView<double>, ArrayView<double>>(accelerator, RowGains);
    }

    /// <summary>gains[row] for every row of <paramref name="range"/> (absolute row index).</summary>
    public void Launch(QueryRange range, int gainKind, ArrayView<double> table, ArrayView<double> gains)
    {
        if (range.RowCount > 0) _gains(range.RowCount, range.Arrays, gainKind, table, gains);
    }

    private static void RowGains(Index1D index, QueryArrays qa, int gainKind, ArrayView<double> table, ArrayView<double> gains)
    {
        int i = index + qa.RowBase;
        gains[i] = KernelMath.Gain(gainKind, qa.Labels[i], table);
    }
}
