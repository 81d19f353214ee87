namespace BuildPool.Operator.Registry;

/// <summary>An OCI content descriptor: what a manifest says about a blob or another manifest.</summary>
public sealed record RegistryDescriptor(string MediaType, string Digest, long Size, IReadOnlyDictionary<string, string> Annotations);
