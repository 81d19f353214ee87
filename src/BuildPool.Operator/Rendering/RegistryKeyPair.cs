namespace BuildPool.Operator.Rendering;

/// <summary>Paths, inside the builder pod, of a client key pair presented to a registry.</summary>
/// <param name="KeyPath">PEM private key file.</param>
/// <param name="CertPath">PEM certificate file.</param>
public sealed record RegistryKeyPair(string KeyPath, string CertPath);
