using ILGPU;
using ILGPU.Runtime;

namespace Ranking.Gpu.Kernels;

public struct ListNetSettings
{
    /// <summary>Q = softmax(s / T).</summary>
    public double Temperature;
    /// <summary>0: P = softmax(grade); 1: P = softmax(gain(grade)).</summary>
    public int TargetIsGain;
    public int Gain;
}

/// <summary>
/// ListNet (top-1) in two launches: a thread per query finds the two log-normalisers (scores / T and
/// targets, each shifted by its maximum) and the query's loss; a thread per row writes (Q - P) / T and
/// Q (1 - Q) / T^2, times the query weight.
/// </summary>
public sealed class ListNetKernels
{
    private readonly Action<Index1D, QueryArrays, ArrayView<float>, ListNetSettings, ArrayView<double>, ArrayView<double>, ArrayView<double>, ArrayView<double>> _queries;
    private readonly Action<Index1D, QueryArrays, ArrayView<float>, ListNetSettings, ArrayView<double>, ArrayView<double>, ArrayView<double>, ArrayView<float>, ArrayView<float>> _rows;

    public ListNetKernels(Accelerator accelerator)
    {
        _queries = accelerator.LoadAutoGroupedStreamKernel<Index1D, QueryArrays, ArrayView<float>, ListNetSettings, ArrayView<double>, ArrayView<double>, ArrayView<double>, ArrayView<double>>(QueryKernel);
        _rows = accelerator.LoadAutoGroupedStreamKernel<Index1D, QueryArrays, ArrayView<float>, ListNetSettings, ArrayView<double>, ArrayView<double>, ArrayView<double>, ArrayView<float>, ArrayView<float>>(RowKernel);
    }

    /// <summary>Queues the launches; per-query loss (times weight) lands in QueryScratch(3).</summary>
    public void Launch(DeviceQuerySet set, QueryRange range, ArrayView<float> scores, ListNetSettings settings, ArrayView<double> gainTable)
    {
        if (range.RowCount == 0) return;
        var logZScores = set.QueryScratch(0);
        var logZTargets = set.QueryScratch(1);
        var loss = set.QueryScratch(3);
        _queries(range.QueryCount, range.Arrays, scores, settings, gainTable, logZScores, logZTargets, loss);
        _rows(range.RowCount, range.Arrays, scores, settings, gainTable, logZScores, logZTargets, set.Gradients.View, set.Hessians.View);
    }

    private static double Target(ListNetSettings m, float grade, ArrayView<double> gainTable) =>
        m.TargetIsGain != 0 ? KernelMath.Gain(m.Gain, grade, gainTable) : grade;

    private static void QueryKernel(Index1D index, QueryArrays qa, ArrayView<float> scores, ListNetSettings m, ArrayView<double> gainTable, ArrayView<double> logZScores, ArrayView<double> logZTargets, ArrayView<double> lossOut)
    {
        int q = index + qa.QueryBase;
        int start = qa.Offsets[q], end = qa.Offsets[q + 1];
        double inverseT = 1.0 / m.Temperature;
        double maxS = double.NegativeInfinity, maxP = double.NegativeInfinity;
        for (int r = start; r < end; r++)
        {
            double z = scores[r] * inverseT;
            if (z > maxS) maxS = z;
            double t = Target(m, qa.Labels[r], gainTable);
            if (t > maxP) maxP = t;
        }
        double sumS = 0.0, sumP = 0.0;
        for (int r = start; r < end; r++)
        {
            sumS += Math.Exp(scores[r] * inverseT - maxS);
            sumP += Math.Exp(Target(m, qa.Labels[r], gainTable) - maxP);
        }
        double logZs = maxS + Math.Log(sumS);
        double logZp = maxP + Math.Log(sumP);
        double loss = 0.0;
        for (int r = start; r < end; r++)
        {
            double p = Math.Exp(Target(m, qa.Labels[r], gainTable) - logZp);
            loss -= p * (scores[r] * inverseT - logZs);
        }
        logZScores[q] = logZs;
        logZTargets[q] = logZp;
        lossOut[q] = loss * qa.QueryWeights[q];
    }

    private static void RowKernel(Index1D index, QueryArrays qa, ArrayView<float> scores, ListNetSettings m, ArrayView<double> gainTable, ArrayView<double> logZScores, ArrayView<double> logZTargets, ArrayView<float> gradients, ArrayView<float> hessians)
    {
        int i = index + qa.RowBase;
        int q = qa.RowQuery[i];
        double inverseT = 1.0 / m.Temperature;
        double weight = qa.QueryWeights[q];
        double qi = Math.Exp(scores[i] * inverseT - logZScores[q]);
        double pi = Math.Exp(Target(m, qa.Labels[i], gainTable) - logZTargets[q]);
        gradients[i] = (float)(weight * (qi - pi) * inverseT);
        hessians[i] = (float)(weight * qi * (1.0 - qi) * inverseT * inverseT);
    }
}
