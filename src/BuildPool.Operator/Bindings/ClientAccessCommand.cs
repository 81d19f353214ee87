using BuildPool.Api.V1Alpha1;
using BuildPool.Operator.Naming;

namespace BuildPool.Operator.Bindings;

/// <summary>The buildx command published in a ClientAccess binding's status.</summary>
public static class ClientAccessCommand
{
    /// <summary>Where the command expects the issued Secret's files; buildx needs absolute paths.</summary>
    public static string Directory(string pool) => $"$HOME/.buildpool/{pool}";

    public static string For(BuilderPool pool)
    {
        ArgumentNullException.ThrowIfNull(pool);
        var name = pool.Metadata.Name;
        var host = $"{ResourceNames.GatewayService(name)}.{pool.Metadata.NamespaceProperty}.svc";
        var dir = Directory(name);
        return $"docker buildx create --name {name} --driver remote"
            + $" --driver-opt cacert={dir}/ca.pem,cert={dir}/cert.pem,key={dir}/key.pem,servername={host}"
            + $" tcp://{host}:{pool.Spec.Endpoint.Port} --use";
    }
}
