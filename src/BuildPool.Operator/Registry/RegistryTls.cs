using k8s.Models;

namespace BuildPool.Operator.Registry;

/// <summary>A managed registry's certificate Secrets after the operator made sure they are current.</summary>
/// <param name="Server">The registry's server certificate (tls.crt, tls.key, and ca.crt: the registry CA, whose client certificates it requires).</param>
/// <param name="Client">The client certificate builders and the operator present (tls.crt, tls.key, and ca.crt: the registry CA).</param>
/// <param name="RenewAt">When the first of them, or the CA, is due for renewal: the target is reconciled again then.</param>
public sealed record RegistryTls(V1Secret Server, V1Secret Client, DateTime RenewAt);
