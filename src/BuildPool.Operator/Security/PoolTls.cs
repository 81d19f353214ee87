using k8s.Models;

namespace BuildPool.Operator.Security;

/// <summary>A pool's PKI Secrets after the operator made sure they are current.</summary>
/// <param name="Ca">The tenant CA Secret (ca.crt, ca.key): the gateway's client CA.</param>
/// <param name="Gateway">The gateway's server certificate Secret (tls.crt, tls.key, ca.crt), from the tenant CA.</param>
/// <param name="Builder">The builders' certificate Secret (tls.crt, tls.key, and ca.crt: the CAs builders take client certificates from).</param>
/// <param name="RenewAt">When the first of them is due for renewal: the pool is reconciled again then.</param>
public sealed record PoolTls(V1Secret Ca, V1Secret Gateway, V1Secret Builder, DateTime RenewAt)
{
    /// <summary>The internal CA Secret (ca.crt, ca.key), with the pool's step of the move to it.</summary>
    public required V1Secret InternalCa { get; init; }

    /// <summary>The client certificate the gateway and the operator present to builders, from the internal CA (tls.crt, tls.key, and ca.crt: the CAs builders' server certificates chain to).</summary>
    public required V1Secret BuilderClient { get; init; }

    /// <summary>Where the pool stands in its builders' move to the internal CA.</summary>
    public required BuilderTrustDecision Trust { get; init; }

    /// <summary>The Secret the gateway presents to builders in this step.</summary>
    public V1Secret Upstream => Trust.InternalClientCertificate ? BuilderClient : Gateway;
}
