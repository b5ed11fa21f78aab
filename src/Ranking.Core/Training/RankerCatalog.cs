using Ranking.Models;

namespace Ranking.Training;

/// <summary>
/// The one list of rankers that the CLI, the benchmarks and the library all read. Core registers its
/// own (linear and MLP rankers); tree projects (Ranking.LightGbm, Ranking.MLNet) register theirs through
/// <see cref="Register"/> and <see cref="RegisterModelFamily"/> without Core knowing them.
/// Names are case-insensitive.
/// </summary>
public sealed class RankerCatalog : IModelLoaders
{
    private readonly Dictionary<string, RankerDescriptor> _rankers = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<string> _order = [];
    private readonly Dictionary<string, ModelPayloadLoader> _loaders = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<Func<string, string, RankerDescriptor?>> _composers = [];

    /// <summary>Every ranker in registration order.</summary>
    public IEnumerable<RankerDescriptor> Rankers => _order.Select(n => _rankers[n]);

    /// <summary>Every model family with a registered payload loader ("linear", "mlp", and what other packages add).</summary>
    public IEnumerable<string> ModelFamilies => _loaders.Keys;

    /// <summary>Adds <paramref name="ranker"/> under its name; a name registered twice is an <see cref="InvalidOperationException"/>.</summary>
    public void Register(RankerDescriptor ranker)
    {
        if (!_rankers.TryAdd(ranker.Name, ranker))
            throw new InvalidOperationException($"ranker '{ranker.Name}' is registered twice.");
        _order.Add(ranker.Name);
    }

    /// <summary>Registers the loader that reads <paramref name="family"/>'s payload back from a model file; a family registered twice is an <see cref="InvalidOperationException"/>.</summary>
    public void RegisterModelFamily(string family, ModelPayloadLoader loader)
    {
        if (!_loaders.TryAdd(family, loader))
            throw new InvalidOperationException($"model family '{family}' is registered twice.");
    }

    /// <summary>
    /// Lets a model family build a ranker for any objective on demand (objective, model) -> descriptor,
    /// e.g. gbdt + listnet through LightGBM's custom-objective path. Returns null when it does not apply.
    /// </summary>
    public void RegisterComposer(Func<string, string, RankerDescriptor?> compose) => _composers.Add(compose);

    /// <summary>The ranker registered as <paramref name="name"/> (exact name, no composition), if any.</summary>
    public bool TryGet(string name, out RankerDescriptor ranker) => _rankers.TryGetValue(name, out ranker!);

    /// <summary>A ranker by name; an unknown name is a usage error listing the known ones.</summary>
    public RankerDescriptor Get(string name)
    {
        if (_rankers.TryGetValue(name, out var ranker)) return ranker;
        throw new ArgumentException($"unknown ranker '{name}'; known: {string.Join(", ", _order)}.");
    }

    /// <summary>The ranker that pairs an objective with a model family (--objective O --model M).</summary>
    public RankerDescriptor Compose(string objective, string modelFamily)
    {
        foreach (var r in Rankers)
            if (string.Equals(r.Objective, objective, StringComparison.OrdinalIgnoreCase)
                && string.Equals(r.ModelFamily, modelFamily, StringComparison.OrdinalIgnoreCase))
                return r;
        foreach (var compose in _composers)
            if (compose(objective, modelFamily) is { } composed) return composed;
        throw new ArgumentException($"no ranker pairs objective '{objective}' with model '{modelFamily}'.");
    }

    /// <summary>The payload loader of <paramref name="family"/>; an unknown family is an <see cref="ArgumentException"/> naming the known ones.</summary>
    public ModelPayloadLoader GetLoader(string family)
    {
        if (_loaders.TryGetValue(family, out var loader)) return loader;
        throw new ArgumentException($"model family '{family}' is not known to this build; known: {string.Join(", ", _loaders.Keys)}.");
    }
}
