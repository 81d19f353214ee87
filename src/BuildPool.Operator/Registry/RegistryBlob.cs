namespace BuildPool.Operator.Registry;

/// <summary>A blob a cache manifest references: a layer or the cache config.</summary>
public readonly record struct RegistryBlob(string Digest, long Size);
