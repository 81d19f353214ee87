using System.Text.Json.Serialization;

namespace BuildPool.Api.V1Alpha1;

/// <summary>How cache backend credentials reach the builder pods.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<CredentialDelivery>))]
public enum CredentialDelivery
{
    /// <summary>Each key of the Secret becomes an environment variable of buildkitd.</summary>
    Env,

    /// <summary>The Secret is mounted as files under mountPath.</summary>
    Files,
}
