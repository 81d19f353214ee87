using k8s.Models;

namespace BuildPool.Operator.Security;

/// <summary>A pool's PKI Secrets after the operator made sure they are current.</summary>
/// <param name="Ca">The pool CA Secret (ca.crt, ca.key).</param>
/// <param name="Gateway">The gateway's certificate Secret (tls.crt, tls.key, ca.crt).</param>
/// <param name="Builder">The builders' certificate Secret (tls.crt, tls.key, ca.crt).</param>
/// <param name="RenewAt">When the first of them is due for renewal: the pool is reconciled again then.</param>
public sealed record PoolTls(V1Secret Ca, V1Secret Gateway, V1Secret Builder, DateTime RenewAt);
