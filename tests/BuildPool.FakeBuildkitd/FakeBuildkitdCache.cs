using BuildPool.TestDoubles;

/// <summary>The fake's build cache: names of the steps built on this root, one per line.</summary>
internal sealed class FakeBuildkitdCache(string path)
{
    private readonly HashSet<string> _built = File.Exists(path) ? [.. File.ReadAllLines(path)] : [];

    public IReadOnlyList<FakeBuildStep> Mark(IReadOnlyList<FakeBuildStep> steps) =>
        [.. steps.Select(s => s with { Cached = s.Cached || _built.Contains(s.Name) })];

    public void Add(IReadOnlyList<FakeBuildStep> steps)
    {
        lock (_built)
        {
            _built.UnionWith(steps.Select(s => s.Name));
            File.WriteAllLines(path, _built.Order(StringComparer.Ordinal));
        }
    }
}
