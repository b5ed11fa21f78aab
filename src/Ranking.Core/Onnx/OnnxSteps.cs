namespace Ranking.Onnx;

/// <summary>
/// The ONNX forms of the feature pipeline's row-wise steps. Each mirrors its step's <c>Map</c>: the same
/// operations in double on the float input, one rounding to float at the end.
/// </summary>
internal static class OnnxSteps
{
    /// <summary>(x - shift) / scale per column, in double: z-score (mean, sd) and min-max (min, range).</summary>
    public static string ShiftScale(OnnxGraphBuilder g, string x, double[] shift, double[] scale, string name)
    {
        int width = shift.Length;
        string xd = g.ToDouble(x);
        string centred = g.Node("Sub", [xd, g.Doubles(name + "_shift", shift, 1, width)], name + "_centred");
        string scaled = g.Node("Div", [centred, g.Doubles(name + "_scale", scale, 1, width)], name + "_scaled");
        return g.ToFloat(scaled, name);
    }

    /// <summary>sign(x) log(1 + |x|) with Goldberg's correction for tiny |x|, as <c>Log1pFitted.SignedLog1p</c>.</summary>
    public static string SignedLog1p(OnnxGraphBuilder g, string x)
    {
        string xd = g.ToDouble(x);
        string one = g.Doubles("log1p_one", [1.0], 1);
        string a = g.Node("Abs", [xd], "log1p_abs");
        string u = g.Node("Add", [a, one], "log1p_u");
        string corrected = g.Node("Mul", [g.Node("Log", [u], "log1p_log"), g.Node("Div", [a, g.Node("Sub", [u, one], "log1p_u1")], "log1p_ratio")], "log1p_corrected");
        string l = g.Node("Where", [g.Node("Equal", [u, one], "log1p_exact"), a, corrected], "log1p_abs_out");
        string negative = g.Node("Less", [xd, g.Doubles("log1p_zero", [0.0], 1)], "log1p_negative");
        string signed = g.Node("Where", [negative, g.Node("Neg", [l], "log1p_neg"), l], "log1p_f64");
        return g.ToFloat(signed, "log1p");
    }

    /// <summary>x below low becomes (float)low, above high (float)high; compared in double; NaN stays NaN.</summary>
    public static string Clip(OnnxGraphBuilder g, string x, double[] low, double[] high)
    {
        int width = low.Length;
        string xd = g.ToDouble(x);
        string below = g.Node("Less", [xd, g.Doubles("clip_low", low, 1, width)], "clip_below");
        string above = g.Node("Greater", [xd, g.Doubles("clip_high", high, 1, width)], "clip_above");
        string lowF = g.Floats("clip_low_f32", low.Select(v => (float)v).ToArray(), 1, width);
        string highF = g.Floats("clip_high_f32", high.Select(v => (float)v).ToArray(), 1, width);
        return g.Node("Where", [below, lowF, g.Node("Where", [above, highF, x], "clip_upper")], "clip");
    }

    /// <summary>
    /// Each row of <paramref name="x"/> (float [N, D]) divided by its L2 norm, as the embedding encoders' NormaliseRows
    /// does: a row whose norm is 0 stays as it is (Where picks the row itself there, not the 0/0 of the division).
    /// </summary>
    public static string L2NormaliseRows(OnnxGraphBuilder g, string x)
    {
        string squares = g.Node("Mul", [x, x], "squares");
        string sum = g.Node("ReduceSum", [squares, g.Int64s("norm_axes", [1], 1)], "squared_norm", OnnxGraphBuilder.Int("keepdims", 1));
        string norm = g.Node("Sqrt", [sum], "norm");
        string divided = g.Node("Div", [x, norm], "divided");
        string positive = g.Node("Greater", [norm, g.Floats("zero", [0f])], "norm_positive");
        return g.Node("Where", [positive, divided, x], "normalised");
    }
}
