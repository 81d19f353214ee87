using System.Text;
using System.Text.Json;
using BuildPool.Api.V1Alpha1;
using BuildPool.Operator.Hosting;
using BuildPool.Runtime.Client;
using BuildPool.Runtime.Informers;
using k8s.Models;

namespace BuildPool.Operator.Registry;

/// <summary>
/// Finds the registry credentials of a target: <c>spec.credentials</c> names a SecretBinding of
/// kind CacheBackendCredentials in the target's namespace, whose Secret holds either
/// <c>username</c> and <c>password</c> (a <c>kubernetes.io/basic-auth</c> Secret; a token goes in
/// <c>password</c>) or <c>.dockerconfigjson</c> with an entry for the registry host.
/// </summary>
/// <remarks>
/// Both come from the operator's caches, which follow every change, so a rotated password counts
/// at the next run. A miss is confirmed live: nothing enqueues a target when its binding or Secret
/// appears, and a target found wanting waits for its next scheduled run.
/// </remarks>
public sealed class RegistryCredentialResolver(ObjectCache<SecretBinding> bindingCache, ResourceClient<SecretBinding> bindingClient, SecretReader secrets)
{
    public const string UsernameKey = "username";
    public const string PasswordKey = "password";
    public const string DockerConfigKey = ".dockerconfigjson";

    public async Task<CredentialLookup> ResolveAsync(string? @namespace, string? bindingName, string registryHost, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(bindingName))
        {
            return CredentialLookup.Anonymous;
        }

        var binding = bindingCache.Get(@namespace, bindingName) ?? await bindingClient.GetAsync(@namespace, bindingName, cancellationToken);
        if (binding is null)
        {
            return new CredentialLookup(null, "MissingSecret", $"spec.credentials: SecretBinding \"{bindingName}\" not found in namespace {@namespace}");
        }

        if (binding.Spec.Kind != SecretBindingKind.CacheBackendCredentials || binding.Spec.CacheBackendCredentials is not { SecretName.Length: > 0 } bound)
        {
            return new CredentialLookup(null, "InvalidSpec", $"spec.credentials: SecretBinding \"{bindingName}\" is of kind {binding.Spec.Kind}; registry credentials need kind CacheBackendCredentials naming a Secret with {UsernameKey}/{PasswordKey} or {DockerConfigKey}");
        }

        var secret = await secrets.ReadThroughAsync(@namespace, bound.SecretName, cancellationToken);
        if (secret is null)
        {
            return new CredentialLookup(null, "MissingSecret", $"spec.credentials: Secret \"{bound.SecretName}\" of SecretBinding \"{bindingName}\" not found in namespace {@namespace}");
        }

        return FromSecret(secret, registryHost) is { } credentials
            ? new CredentialLookup(credentials)
            : new CredentialLookup(null, "InvalidSpec", $"spec.credentials: Secret \"{bound.SecretName}\" has neither {UsernameKey} and {PasswordKey} nor a {DockerConfigKey} entry for {registryHost}");
    }

    /// <summary>Credentials for the host from a Secret's data (or stringData, as a test or a dry object may carry it).</summary>
    public static RegistryCredentials? FromSecret(V1Secret secret, string registryHost)
    {
        ArgumentNullException.ThrowIfNull(secret);
        string? Value(string key) =>
            secret.Data?.TryGetValue(key, out var bytes) == true ? Encoding.UTF8.GetString(bytes)
            : secret.StringData?.TryGetValue(key, out var text) == true ? text
            : null;

        if (Value(UsernameKey) is { Length: > 0 } user && Value(PasswordKey) is { } password)
        {
            return new RegistryCredentials(user.Trim(), password.TrimEnd('\r', '\n'));
        }

        return Value(DockerConfigKey) is { Length: > 0 } json ? FromDockerConfig(json, registryHost) : null;
    }

    /// <summary>The <c>auths</c> entry for the host (keys may carry a scheme or a /v1/ or /v2/ path).</summary>
    public static RegistryCredentials? FromDockerConfig(string json, string registryHost)
    {
        try
        {
            using var doc = JsonDocument.Parse(json);
            if (!doc.RootElement.TryGetProperty("auths", out var auths) || auths.ValueKind != JsonValueKind.Object)
            {
                return null;
            }

            foreach (var entry in auths.EnumerateObject())
            {
                if (!HostOf(entry.Name).Equals(registryHost, StringComparison.OrdinalIgnoreCase) || entry.Value.ValueKind != JsonValueKind.Object)
                {
                    continue;
                }

                var e = entry.Value;
                if (Text(e, "username") is { Length: > 0 } user && Text(e, "password") is { } password)
                {
                    return new RegistryCredentials(user, password);
                }

                if (Text(e, "auth") is { Length: > 0 } auth)
                {
                    var pair = Encoding.UTF8.GetString(Convert.FromBase64String(auth));
                    var colon = pair.IndexOf(':', StringComparison.Ordinal);
                    return colon > 0 ? new RegistryCredentials(pair[..colon], pair[(colon + 1)..]) : null;
                }
            }
        }
        catch (Exception ex) when (ex is JsonException or FormatException)
        {
            return null;
        }

        return null;
    }

    private static string HostOf(string key)
    {
        var host = key;
        var scheme = host.IndexOf("://", StringComparison.Ordinal);
        if (scheme >= 0)
        {
            host = host[(scheme + 3)..];
        }

        var slash = host.IndexOf('/', StringComparison.Ordinal);
        return slash >= 0 ? host[..slash] : host;
    }

    private static string? Text(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
}
