using Ranking.Objectives;
using static Ranking.Core.Tests.Objectives.ObjectiveTestKit;

namespace Ranking.Core.Tests.Objectives;

public class DeterminismTests
{
    public static TheoryData<string> Names()
    {
        var data = new TheoryData<string>();
        foreach (var (name, _, _, _) in ObjectiveFactory.Describe()) data.Add(name);
        return data;
    }

    /// <summary>One thread and every thread give bit-identical loss, gradients and Hessians; the same seed
    /// and iteration repeat; the loss is summed per query in a fixed order.</summary>
    [Theory]
    [MemberData(nameof(Names))]
    public void Same_result_for_one_thread_and_all_threads(string name)
    {
        var sizes = Enumerable.Range(0, 300).Select(q => 1 + (q * 37) % 40).ToArray();
        var (labels, scores, offsets, weights) = RandomQueries(5, sizes);
        // A fresh objective per run: unbiased-lambdarank learns its position biases from each call (as XGBoost's
        // lambdarank_unbiased does per round), so a second call on one instance differs by design.
        var single = Run(ObjectiveFactory.Create(name, null, seed: 3), labels, scores, offsets, weights, iteration: 4, threads: 1);
        var all = Run(ObjectiveFactory.Create(name, null, seed: 3), labels, scores, offsets, weights, iteration: 4, threads: -1);
        var again = Run(ObjectiveFactory.Create(name, null, seed: 3), labels, scores, offsets, weights, iteration: 4, threads: 4);
        Assert.Equal(single.Loss, all.Loss);
        Assert.Equal(single.Loss, again.Loss);
        Assert.Equal(single.Gradients, all.Gradients);
        Assert.Equal(single.Hessians, all.Hessians);
        Assert.Equal(single.Gradients, again.Gradients);
    }
}
