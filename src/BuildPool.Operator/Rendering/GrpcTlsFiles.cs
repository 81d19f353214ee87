namespace BuildPool.Operator.Rendering;

/// <summary>Paths, inside the builder pod, of the daemon's gRPC server TLS files.</summary>
/// <param name="CertPath">PEM server certificate.</param>
/// <param name="KeyPath">PEM server private key.</param>
/// <param name="CaPath">PEM CA bundle that client certificates must chain to; null accepts clients without one.</param>
public sealed record GrpcTlsFiles(string CertPath, string KeyPath, string? CaPath = null);
