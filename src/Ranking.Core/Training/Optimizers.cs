using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Ranking.Training;

/// <summary>Updates a flat parameter array from its gradient; keeps its own state (moments, velocity).</summary>
public abstract class Optimizer
{
    /// <summary>The optimizer's name as the "optimizer" knob spells it ("adam", "sgd").</summary>
    public abstract string Name { get; }

    /// <summary>One update with the given learning rate.</summary>
    public abstract void Step(float[] parameters, float[] gradients, float learningRate);

    /// <summary>
    /// One update of some rows of a row-major table <paramref name="width"/> values wide (class proxies: only the
    /// rows a batch touched have a gradient). <paramref name="gradients"/> holds the named rows' gradients in the
    /// order of <paramref name="rows"/> (distinct row ids). Rows not named keep their parameters and their state
    /// (a lazy update, as sparse Adam implementations do); the step counter advances once per call.
    /// </summary>
    public abstract void StepRows(float[] parameters, ReadOnlySpan<int> rows, int width, float[] gradients, float learningRate);

    /// <summary>Adam, or SGD with <paramref name="momentum"/>.</summary>
    public static Optimizer Create(OptimizerKind kind, int parameterCount, double momentum = 0.9) => kind switch
    {
        OptimizerKind.Adam => new AdamOptimizer(parameterCount),
        OptimizerKind.Sgd => new SgdMomentumOptimizer(parameterCount, (float)momentum),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown optimizer"),
    };
}

/// <summary>Adam (Kingma and Ba 2015) with bias-corrected first and second moments.</summary>
public sealed class AdamOptimizer(int parameterCount, float beta1 = 0.9f, float beta2 = 0.999f, float epsilon = 1e-8f) : Optimizer
{
    private readonly float[] _m = new float[parameterCount];
    private readonly float[] _v = new float[parameterCount];
    private int _t;

    /// <summary>"adam".</summary>
    public override string Name => "adam";

    /// <summary>One Adam step: moments updated from <paramref name="gradients"/>, then each parameter moves by learningRate * m_hat / (sqrt(v_hat) + epsilon).</summary>
    public override void Step(float[] parameters, float[] gradients, float learningRate)
    {
        _t++;
        // Bias corrections folded into the step size, as the paper's efficient form does.
        double c1 = 1 - Math.Pow(beta1, _t), c2 = 1 - Math.Pow(beta2, _t);
        float stepSize = (float)(learningRate * Math.Sqrt(c2) / c1);
        float eps = (float)(epsilon * Math.Sqrt(c2));
        float b1 = beta1, b2 = beta2, oneMinusB1 = 1 - beta1, oneMinusB2 = 1 - beta2;
        int n = parameters.Length;
        if (gradients.Length < n || _m.Length < n) throw new ArgumentException("one gradient per parameter is required.", nameof(gradients));
        ref float p = ref MemoryMarshal.GetArrayDataReference(parameters);
        ref float gr = ref MemoryMarshal.GetArrayDataReference(gradients);
        ref float mr = ref MemoryMarshal.GetArrayDataReference(_m);
        ref float vr = ref MemoryMarshal.GetArrayDataReference(_v);
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            // The scalar loop's operations in the same order, eight lanes at a time (no fused multiply-add), so each
            // element gets the bit-identical result; Adam streams ~235k parameters x 4 arrays per step of the encoder.
            var vb1 = Vector256.Create(b1);
            var vb2 = Vector256.Create(b2);
            var v1b1 = Vector256.Create(oneMinusB1);
            var v1b2 = Vector256.Create(oneMinusB2);
            var vStep = Vector256.Create(stepSize);
            var vEps = Vector256.Create(eps);
            for (; i + 8 <= n; i += 8)
            {
                var g = Vector256.LoadUnsafe(ref gr, (nuint)i);
                var m = vb1 * Vector256.LoadUnsafe(ref mr, (nuint)i) + v1b1 * g;
                var v = vb2 * Vector256.LoadUnsafe(ref vr, (nuint)i) + v1b2 * g * g;
                m.StoreUnsafe(ref mr, (nuint)i);
                v.StoreUnsafe(ref vr, (nuint)i);
                (Vector256.LoadUnsafe(ref p, (nuint)i) - vStep * m / (Vector256.Sqrt(v) + vEps)).StoreUnsafe(ref p, (nuint)i);
            }
        }
        for (; i < n; i++) Update(parameters, i, gradients[i], stepSize, eps);
    }

    /// <summary>Adam's step on the named rows only (their moments; the bias correction of the shared step counter).</summary>
    public override void StepRows(float[] parameters, ReadOnlySpan<int> rows, int width, float[] gradients, float learningRate)
    {
        _t++;
        double c1 = 1 - Math.Pow(beta1, _t), c2 = 1 - Math.Pow(beta2, _t);
        float stepSize = (float)(learningRate * Math.Sqrt(c2) / c1);
        float eps = (float)(epsilon * Math.Sqrt(c2));
        for (int r = 0; r < rows.Length; r++)
        {
            long offset = (long)rows[r] * width;
            for (int k = 0; k < width; k++) Update(parameters, offset + k, gradients[(long)r * width + k], stepSize, eps);
        }
    }

    /// <summary>One parameter's update: the scalar formula (the lanes of <see cref="Step"/> compute the same, bit for bit).</summary>
    private void Update(float[] parameters, long i, float g, float stepSize, float eps)
    {
        float m = _m[i] = beta1 * _m[i] + (1 - beta1) * g;
        float v = _v[i] = beta2 * _v[i] + (1 - beta2) * g * g;
        parameters[i] -= stepSize * m / (MathF.Sqrt(v) + eps);
    }
}

/// <summary>Stochastic gradient descent with (heavy-ball) momentum: v = mu v + g; w -= lr v.</summary>
public sealed class SgdMomentumOptimizer(int parameterCount, float momentum = 0.9f) : Optimizer
{
    private readonly float[] _velocity = new float[parameterCount];

    /// <summary>"sgd".</summary>
    public override string Name => "sgd";

    /// <summary>One step of SGD with momentum: velocity = momentum * velocity + gradient, parameter -= learningRate * velocity.</summary>
    public override void Step(float[] parameters, float[] gradients, float learningRate)
    {
        for (int i = 0; i < parameters.Length; i++)
        {
            float v = _velocity[i] = momentum * _velocity[i] + gradients[i];
            parameters[i] -= learningRate * v;
        }
    }

    /// <summary>SGD with momentum on the named rows only (rows not named keep their velocity).</summary>
    public override void StepRows(float[] parameters, ReadOnlySpan<int> rows, int width, float[] gradients, float learningRate)
    {
        for (int r = 0; r < rows.Length; r++)
        {
            long offset = (long)rows[r] * width;
            for (int k = 0; k < width; k++)
            {
                float v = _velocity[offset + k] = momentum * _velocity[offset + k] + gradients[(long)r * width + k];
                parameters[offset + k] -= learningRate * v;
            }
        }
    }
}

/// <summary>Gradient post-processing shared by the gradient trainer.</summary>
public static class GradientTools
{
    /// <summary>L2 weight decay: adds lambda * w to the gradient of every decayed parameter (the gradient of lambda/2 |w|^2).</summary>
    public static void AddWeightDecay(float[] parameters, float[] gradients, IReadOnlyList<(int Offset, int Length)> ranges, float lambda)
    {
        if (lambda == 0f) return;
        foreach (var (offset, length) in ranges)
            for (int i = offset; i < offset + length; i++) gradients[i] += lambda * parameters[i];
    }

    /// <summary>Rescales the gradient so its global L2 norm is at most <paramref name="maxNorm"/>; returns the norm before clipping.</summary>
    public static double ClipByGlobalNorm(float[] gradients, double maxNorm)
    {
        double sum = 0;
        foreach (float g in gradients) sum += (double)g * g;
        double norm = Math.Sqrt(sum);
        if (maxNorm > 0 && norm > maxNorm)
        {
            float scale = (float)(maxNorm / norm);
            for (int i = 0; i < gradients.Length; i++) gradients[i] *= scale;
        }
        return norm;
    }
}

/// <summary>Learning rate per epoch: constant, cosine annealing to <see cref="MinFraction"/>, or step decay.</summary>
public sealed class LearningRateSchedule
{
    /// <summary>A schedule from <paramref name="baseRate"/> (positive, finite) over <paramref name="totalEpochs"/>; <paramref name="stepEpochs"/> and <paramref name="gamma"/> shape step decay, <paramref name="minFraction"/> the cosine floor.</summary>
    public LearningRateSchedule(LearningRateScheduleKind kind, double baseRate, int totalEpochs, int stepEpochs = 10, double gamma = 0.5, double minFraction = 0.0)
    {
        if (!Enum.IsDefined(kind)) throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown learning-rate schedule");
        Kind = kind;
        if (!(baseRate > 0) || double.IsInfinity(baseRate)) throw new ArgumentException($"learning rate must be positive, got {baseRate}.");
        if (stepEpochs <= 0) throw new ArgumentException("step-epochs must be positive.");
        BaseRate = baseRate;
        TotalEpochs = Math.Max(1, totalEpochs);
        StepEpochs = stepEpochs;
        Gamma = gamma;
        MinFraction = minFraction;
    }

    /// <summary>Constant, cosine or step.</summary>
    public LearningRateScheduleKind Kind { get; }
    /// <summary>The rate of epoch 0 (and of every epoch under a constant schedule).</summary>
    public double BaseRate { get; }
    /// <summary>Epochs the cosine schedule spans (at least 1); later epochs stay at its floor.</summary>
    public int TotalEpochs { get; }
    /// <summary>Step decay multiplies the rate by <see cref="Gamma"/> every this many epochs.</summary>
    public int StepEpochs { get; }
    /// <summary>Step decay's factor per <see cref="StepEpochs"/> epochs (0.5 halves the rate).</summary>
    public double Gamma { get; }
    /// <summary>The cosine schedule's last rate as a fraction of <see cref="BaseRate"/> (0 anneals to zero).</summary>
    public double MinFraction { get; }

    /// <summary>The rate for a 0-based epoch.</summary>
    public double Rate(int epoch) => Kind switch
    {
        LearningRateScheduleKind.Cosine => BaseRate * (MinFraction + (1 - MinFraction) * 0.5 * (1 + Math.Cos(Math.PI * Math.Min(epoch, TotalEpochs) / TotalEpochs))),
        LearningRateScheduleKind.Step => BaseRate * Math.Pow(Gamma, epoch / StepEpochs),
        _ => BaseRate,
    };
}
