using System.Text;
using BuildPool.Api.V1Alpha1;
using k8s.Models;

namespace BuildPool.Operator.Volumes;

/// <summary>
/// Where a registry's CA and client keypair appear inside a builder, and the projected volume
/// that puts them there. buildkitd.toml and the pod spec both come from here, so they agree.
/// </summary>
public static class RegistryFiles
{
    public const string Root = "/etc/buildkit-registries";
    public const string DefaultCaKey = "ca.crt";

    public static string Directory(string host) => $"{Root}/{Sanitize(host)}";

    public static string CaPath(string host) => $"{Directory(host)}/ca.crt";

    public static string CertPath(string host) => $"{Directory(host)}/tls.crt";

    public static string KeyPath(string host) => $"{Directory(host)}/tls.key";

    /// <summary>One projected volume per registry that has a CA or keypair; null when it has neither.</summary>
    /// <param name="keyPair">False for an isolated fork's builder: the CA only, never a client identity an untrusted build step could read.</param>
    public static (V1Volume Volume, V1VolumeMount Mount)? For(RegistrySettings registry, int index, bool keyPair = true)
    {
        ArgumentNullException.ThrowIfNull(registry);
        var sources = new List<V1VolumeProjection>();
        if (registry.CaSecretRef is { } ca)
        {
            sources.Add(new V1VolumeProjection
            {
                Secret = new V1SecretProjection { Name = ca.Name, Items = [new V1KeyToPath { Key = ca.Key ?? DefaultCaKey, Path = "ca.crt" }] },
            });
        }

        if (registry.ClientKeyPairSecretRef is { } pair && keyPair)
        {
            sources.Add(new V1VolumeProjection
            {
                Secret = new V1SecretProjection
                {
                    Name = pair.Name,
                    Items = [new V1KeyToPath { Key = "tls.crt", Path = "tls.crt" }, new V1KeyToPath { Key = "tls.key", Path = "tls.key" }],
                },
            });
        }

        if (sources.Count == 0)
        {
            return null;
        }

        var name = $"registry-{index}";
        return (new V1Volume { Name = name, Projected = new V1ProjectedVolumeSource { Sources = sources } },
            new V1VolumeMount { Name = name, MountPath = Directory(registry.Host), ReadOnlyProperty = true });
    }

    /// <summary>Every Secret the pool's builders mount, with the field that names it.</summary>
    public static IEnumerable<(string Field, string Secret)> ReferencedSecrets(BuilderSpec builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        for (var i = 0; i < (builder.Registries?.Count ?? 0); i++)
        {
            var registry = builder.Registries![i];
            if (registry.CaSecretRef is { } ca)
            {
                yield return ($"spec.builder.registries[{i}].caSecretRef", ca.Name);
            }

            if (registry.ClientKeyPairSecretRef is { } pair)
            {
                yield return ($"spec.builder.registries[{i}].clientKeyPairSecretRef", pair.Name);
            }
        }
    }

    // "mirror.example.test:5000" → "mirror.example.test-5000": a path segment without a colon.
    private static string Sanitize(string host)
    {
        var text = new StringBuilder(host.Length);
        foreach (var c in host.ToLowerInvariant())
        {
            text.Append(char.IsAsciiLetterOrDigit(c) || c is '.' or '-' ? c : '-');
        }

        return text.ToString();
    }
}
