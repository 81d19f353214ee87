namespace BuildPool.Runtime.Informers;

/// <summary>A consistent snapshot of a collection and the resourceVersion to watch from.</summary>
public sealed record ListResult<T>(IReadOnlyList<T> Items, string ResourceVersion);
