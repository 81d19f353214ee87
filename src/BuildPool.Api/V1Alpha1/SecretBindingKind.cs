using System.Text.Json.Serialization;

namespace BuildPool.Api.V1Alpha1;

/// <summary>What a SecretBinding binds.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<SecretBindingKind>))]
public enum SecretBindingKind
{
    /// <summary>Issues a client certificate signed by the pool CA into a Secret in a tenant namespace; deleting the binding revokes it.</summary>
    ClientAccess,

    /// <summary>Gives builder pods cloud credentials for s3 or azblob cache backends, as environment variables or files.</summary>
    CacheBackendCredentials,

    /// <summary>Gives builders a registry CA and client key pair through buildkitd.toml.</summary>
    [JsonStringEnumMemberName("RegistryTLS")]
    RegistryTls,

    /// <summary>Gives the pool endpoint its server certificate and client CA.</summary>
    [JsonStringEnumMemberName("EndpointTLS")]
    EndpointTls,
}
