using BuildPool.Api.V1Alpha1;
using BuildPool.Operator.Naming;

namespace BuildPool.Operator.Security;

/// <summary>The names a pool's certificates are valid for.</summary>
public static class PoolCertificateNames
{
    /// <summary>Common name of the pool's tenant CA: says which pool it belongs to in any tool that shows it.</summary>
    public static string CaCommonName(BuilderPool pool)
    {
        ArgumentNullException.ThrowIfNull(pool);
        return $"BuildPool CA {pool.Metadata.NamespaceProperty}/{pool.Metadata.Name}";
    }

    /// <summary>Common name of the pool's internal CA, the only one its builders trust.</summary>
    public static string InternalCaCommonName(BuilderPool pool)
    {
        ArgumentNullException.ThrowIfNull(pool);
        return $"BuildPool internal CA {pool.Metadata.NamespaceProperty}/{pool.Metadata.Name}";
    }

    /// <summary>Subject CN of the client certificate the gateway and the operator present to builders.</summary>
    public static string BuilderClient(BuilderPool pool)
    {
        ArgumentNullException.ThrowIfNull(pool);
        return $"{pool.Metadata.Name} gateway and operator {pool.Metadata.NamespaceProperty}";
    }

    /// <summary>
    /// The gateway Service under every name a client in the cluster may use, and
    /// <c>*.&lt;routing.domain&gt;</c> so Authority routing keys (&lt;key&gt;.&lt;domain&gt;) verify.
    /// </summary>
    public static IReadOnlyList<string> Gateway(BuilderPool pool)
    {
        ArgumentNullException.ThrowIfNull(pool);
        var service = ResourceNames.GatewayService(pool.Metadata.Name);
        var ns = pool.Metadata.NamespaceProperty;
        var names = new List<string> { service, $"{service}.{ns}", $"{service}.{ns}.svc", $"{service}.{ns}.svc.cluster.local" };
        if (pool.Spec.Routing.Domain is { Length: > 0 } domain)
        {
            names.Add(domain);
            names.Add($"*.{domain}");
        }

        return names;
    }

    /// <summary>
    /// Every builder Service of the namespace (<c>&lt;volume&gt;-builder.&lt;ns&gt;.svc</c>): the
    /// wildcard covers volumes created later (Dedicated keys) without reissuing the certificate.
    /// </summary>
    public static IReadOnlyList<string> Builders(BuilderPool pool)
    {
        ArgumentNullException.ThrowIfNull(pool);
        var ns = pool.Metadata.NamespaceProperty;
        return [$"*.{ns}.svc", $"*.{ns}.svc.cluster.local"];
    }

    /// <summary>The identity a ClientAccess binding's certificate carries: CN=&lt;targetNamespace&gt;/&lt;binding&gt;.</summary>
    public static string Client(string targetNamespace, string binding) => $"{targetNamespace}/{binding}";
}
