namespace BuildPool.Operator.Children;

/// <summary>The Kubernetes models expose labels, annotations and requests as IDictionary, which has no GetValueOrDefault.</summary>
public static class DictionaryExtensions
{
    public static TValue? Lookup<TValue>(this IDictionary<string, TValue>? dictionary, string key) =>
        dictionary is not null && dictionary.TryGetValue(key, out var value) ? value : default;
}
