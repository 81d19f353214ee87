using BuildPool.Api.V1Alpha1;
using BuildPool.Operator.Naming;
using BuildPool.Operator.Registry;
using BuildPool.Operator.Rendering;
using BuildPool.Operator.Security;
using k8s.Models;

namespace BuildPool.Operator.Bindings;

/// <summary>
/// Pure: a pool, its SecretBindings and a Secret lookup in, what its builders mount out. A
/// binding whose Secret does not exist is left out (its own status says so), so one broken
/// binding never keeps builders from starting.
/// </summary>
public static class BuilderCredentialsPlanner
{
    public const string TlsDirectory = "/etc/buildkit-tls";
    public const string RegistryBindingRoot = "/etc/buildkit-registries/bindings";
    public const string ManagedRegistryRoot = "/etc/buildkit-registries/managed";
    public const string TlsVolume = "builder-tls";

    /// <summary>
    /// The builders' credentials; null when the pool has TLS on but its builder certificate does
    /// not exist yet (a builder started now would serve plain gRPC, then restart).
    /// </summary>
    /// <param name="isolated">
    /// For an isolated fork (the builder of one untrusted build): no cache-backend credentials
    /// and no registry client keypairs, only registry CAs. Untrusted builds run only there, and
    /// without the process sandbox (Rootless, UserNamespace) a build step can read whatever the
    /// daemon holds, in its environment or its files. A managed registry's client certificate is
    /// such a keypair: an isolated fork trusts the registry's CA and imports from its read-only
    /// listener (<see cref="ManagedRegistry.ReadOnlyHost"/>), which takes no client certificate.
    /// </param>
    /// <param name="managedRegistries">The pool's <c>managed: true</c> RegistryCacheTargets: their builders present the registry's client certificate (mutual TLS).</param>
    public static BuilderCredentials? Plan(BuilderPool pool, IReadOnlyList<SecretBinding> bindings, Func<string, V1Secret?> secret, bool isolated = false, IReadOnlyList<RegistryCacheTarget>? managedRegistries = null)
    {
        ArgumentNullException.ThrowIfNull(pool);
        ArgumentNullException.ThrowIfNull(bindings);
        ArgumentNullException.ThrowIfNull(secret);
        var volumes = new List<V1Volume>();
        var mounts = new List<V1VolumeMount>();
        var env = new List<V1EnvFromSource>();
        var registries = new List<RegistryConfig>();
        var used = new List<V1Secret>();
        GrpcTlsFiles? tls = null;
        string? tlsDigest = null;

        if (pool.Spec.Endpoint.Tls.Mode != TlsMode.Disabled)
        {
            var builderTls = secret(ResourceNames.BuilderTlsSecret(pool.Metadata.Name));
            if (builderTls is null)
            {
                return null;
            }

            used.Add(builderTls);
            tlsDigest = SecretDigest.Of([builderTls]);
            volumes.Add(new V1Volume { Name = TlsVolume, Secret = new V1SecretVolumeSource { SecretName = builderTls.Metadata.Name } });
            mounts.Add(new V1VolumeMount { Name = TlsVolume, MountPath = TlsDirectory, ReadOnlyProperty = true });
            // ca: only clients with a certificate from the internal CA (the gateway, the operator)
            // get in; the Secret's ca.crt never holds the tenant CA once the pool has moved.
            tls = new GrpcTlsFiles($"{TlsDirectory}/{TlsSecretKeys.Certificate}", $"{TlsDirectory}/{TlsSecretKeys.PrivateKey}", $"{TlsDirectory}/{TlsSecretKeys.CaCertificate}");
        }

        var paths = new HashSet<string>(mounts.Select(m => m.MountPath), StringComparer.Ordinal);
        var index = 0;
        foreach (var binding in bindings.OrderBy(b => b.Metadata.Name, StringComparer.Ordinal))
        {
            if (binding.Spec.Kind == SecretBindingKind.CacheBackendCredentials && binding.Spec.CacheBackendCredentials is { } credentials
                && !isolated && secret(credentials.SecretName) is { } credentialSecret)
            {
                if (credentials.Delivery == CredentialDelivery.Env)
                {
                    env.Add(new V1EnvFromSource { SecretRef = new V1SecretEnvSource { Name = credentials.SecretName } });
                }
                else
                {
                    var path = credentials.MountPath ?? CacheBackendCredentialsBinding.DefaultMountPath;
                    if (!paths.Add(path))
                    {
                        continue;
                    }

                    var name = $"credentials-{index++}";
                    volumes.Add(new V1Volume { Name = name, Secret = new V1SecretVolumeSource { SecretName = credentials.SecretName } });
                    mounts.Add(new V1VolumeMount { Name = name, MountPath = path, ReadOnlyProperty = true });
                }

                used.Add(credentialSecret);
            }
            else if (binding.Spec.Kind == SecretBindingKind.RegistryTls && binding.Spec.RegistryTls is { } bound)
            {
                AddRegistry($"{RegistryBindingRoot}/{binding.Metadata.Name}", "registry-tls", bound);
            }
        }

        // The managed registry requires this client certificate on every connection (its
        // config's clientcas): trusted builders get it, like a RegistryTLS binding's keypair.
        // An isolated fork gets the CA only, for the read-only listener it imports from.
        foreach (var target in (managedRegistries ?? []).OrderBy(t => t.Metadata.Name, StringComparer.Ordinal))
        {
            var client = ManagedRegistry.ClientSecret(target.Metadata.Name);
            AddRegistry($"{ManagedRegistryRoot}/{target.Metadata.Name}", "managed-registry", new RegistryTlsBinding
            {
                Registry = isolated ? ManagedRegistry.ReadOnlyHost(target) : ManagedRegistry.Host(target),
                CaSecretRef = new SecretKeyReference { Name = client, Key = TlsSecretKeys.CaCertificate },
                ClientKeyPairSecretRef = new SecretReference { Name = client },
            });
        }

        // A registry's CA and keypair as files under directory, and its buildkitd.toml table; left
        // out while a Secret it needs does not exist. An isolated fork's builder gets the CA only.
        void AddRegistry(string directory, string volumePrefix, RegistryTlsBinding bound)
        {
            if ((isolated ? WithoutKeyPair(bound) : bound) is not { } registry || RegistrySecrets(registry, secret) is not { } found)
            {
                return;
            }

            var sources = new List<V1VolumeProjection>();
            if (registry.CaSecretRef is { } ca)
            {
                sources.Add(new V1VolumeProjection { Secret = new V1SecretProjection { Name = ca.Name, Items = [new V1KeyToPath { Key = ca.Key ?? TlsSecretKeys.CaCertificate, Path = "ca.crt" }] } });
            }

            if (registry.ClientKeyPairSecretRef is { } pair)
            {
                sources.Add(new V1VolumeProjection
                {
                    Secret = new V1SecretProjection
                    {
                        Name = pair.Name,
                        Items = [new V1KeyToPath { Key = TlsSecretKeys.Certificate, Path = "tls.crt" }, new V1KeyToPath { Key = TlsSecretKeys.PrivateKey, Path = "tls.key" }],
                    },
                });
            }

            var volume = $"{volumePrefix}-{index++}";
            volumes.Add(new V1Volume { Name = volume, Projected = new V1ProjectedVolumeSource { Sources = sources } });
            mounts.Add(new V1VolumeMount { Name = volume, MountPath = directory, ReadOnlyProperty = true });
            registries.Add(new RegistryConfig
            {
                Host = registry.Registry,
                CaPaths = registry.CaSecretRef is null ? [] : [$"{directory}/ca.crt"],
                KeyPairs = registry.ClientKeyPairSecretRef is null ? [] : [new RegistryKeyPair($"{directory}/tls.key", $"{directory}/tls.crt")],
            });
            used.AddRange(found);
        }

        if (used.Count == 0)
        {
            return BuilderCredentials.None;
        }

        return new BuilderCredentials
        {
            Tls = tls,
            TlsDigest = tlsDigest,
            Registries = registries,
            Volumes = volumes,
            Mounts = mounts,
            EnvFrom = env,
            Digest = SecretDigest.Of(used),
        };
    }

    /// <summary>Every Secret a binding names, with the field naming it, for its status and for watches.</summary>
    public static IEnumerable<(string Field, string Secret)> ReferencedSecrets(SecretBindingSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        switch (spec.Kind)
        {
            case SecretBindingKind.CacheBackendCredentials when spec.CacheBackendCredentials is { } c:
                yield return ("spec.cacheBackendCredentials.secretName", c.SecretName);
                break;
            case SecretBindingKind.RegistryTls when spec.RegistryTls is { } r:
                if (r.CaSecretRef is { } ca)
                {
                    yield return ("spec.registryTLS.caSecretRef", ca.Name);
                }

                if (r.ClientKeyPairSecretRef is { } pair)
                {
                    yield return ("spec.registryTLS.clientKeyPairSecretRef", pair.Name);
                }

                break;
            case SecretBindingKind.EndpointTls when spec.EndpointTls is { } e:
                yield return ("spec.endpointTLS.serverCertificateSecretRef", e.ServerCertificateSecretRef.Name);
                if (e.ClientCaSecretRef is { } clientCa)
                {
                    yield return ("spec.endpointTLS.clientCASecretRef", clientCa.Name);
                }

                break;
        }
    }

    /// <summary>The binding with its CA only; null when it has nothing else.</summary>
    private static RegistryTlsBinding? WithoutKeyPair(RegistryTlsBinding registry) =>
        registry.CaSecretRef is null ? null : new RegistryTlsBinding { Registry = registry.Registry, CaSecretRef = registry.CaSecretRef };

    private static List<V1Secret>? RegistrySecrets(RegistryTlsBinding registry, Func<string, V1Secret?> secret)
    {
        var found = new List<V1Secret>();
        foreach (var name in new[] { registry.CaSecretRef?.Name, registry.ClientKeyPairSecretRef?.Name })
        {
            if (name is null)
            {
                continue;
            }

            if (secret(name) is not { } s)
            {
                return null;
            }

            found.Add(s);
        }

        return found.Count > 0 ? found : null;
    }
}
