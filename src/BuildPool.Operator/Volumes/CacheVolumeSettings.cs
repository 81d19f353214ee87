using BuildPool.Api.Units;
using BuildPool.Api.V1Alpha1;
using BuildPool.Operator.Bindings;
using BuildPool.Operator.Rendering;

namespace BuildPool.Operator.Volumes;

/// <summary>
/// A volume's effective settings: its own where set, its pool's otherwise, parsed once, with
/// the rendered buildkitd.toml. Errors name the field they come from.
/// </summary>
public sealed record CacheVolumeSettings(long SizeBytes, TimeSpan IdleTimeout, string BuildkitdToml, IReadOnlyList<string> Errors)
{
    /// <summary>The GC limits the rendered config uses, for the operator's own targeted prunes.</summary>
    public GcBudget? Budget { get; init; }

    public static CacheVolumeSettings Resolve(CacheVolume volume, BuilderPool pool, BuilderCredentials? credentials = null)
    {
        ArgumentNullException.ThrowIfNull(volume);
        ArgumentNullException.ThrowIfNull(pool);
        var errors = new List<string>();
        var (sizeText, sizeField) = volume.Spec.Size is { } own ? (own, "spec.size") : (pool.Spec.Cache.Volume.Size, $"BuilderPool {pool.Metadata.Name}: spec.cache.volume.size");
        if (!Quantity.TryParse(sizeText, out var size, out var sizeError))
        {
            errors.Add($"{sizeField}: {sizeError}");
        }
        else if (size <= 0)
        {
            errors.Add($"{sizeField}: must be greater than zero");
        }

        if (volume.Spec.CloneFrom is { Length: > 0 } && volume.Spec.CloneFromSnapshot is { Length: > 0 })
        {
            errors.Add("spec.cloneFromSnapshot: exclusive with spec.cloneFrom; seed a volume from one source");
        }

        if (!GoDuration.TryParse(pool.Spec.Scaling.IdleTimeout, out var idle, out var idleError))
        {
            errors.Add($"BuilderPool {pool.Metadata.Name}: spec.scaling.idleTimeout: {idleError}");
        }

        if (errors.Count > 0)
        {
            return new CacheVolumeSettings(0, TimeSpan.Zero, string.Empty, errors);
        }

        var builder = pool.Spec.Builder;
        // An untrusted build's builder gets no client keypair (BuilderChildrenPlanner mounts none).
        var keyPairs = Forks.ForkPlanner.IsolatedFor(volume) is null;
        var input = new BuildkitdConfigInput
        {
            VersionTag = BuildkitVersion.TagOf(builder.Image),
            VolumeSizeBytes = size,
            Gc = pool.Spec.Cache.Gc,
            CacheMounts = pool.Spec.Cache.CacheMounts?.ToArray() ?? [],
            MaxParallelism = builder.MaxParallelism,
            Registries = (builder.Registries ?? []).Select(r => RegistryConfig.FromSettings(r,
                r.CaSecretRef is null ? null : RegistryFiles.CaPath(r.Host),
                r.ClientKeyPairSecretRef is null || !keyPairs ? null : new RegistryKeyPair(RegistryFiles.KeyPath(r.Host), RegistryFiles.CertPath(r.Host))))
                .Concat(credentials?.Registries ?? []).ToArray(),
            Tls = credentials?.Tls,
            UnixSocket = builder.SecurityProfile == SecurityProfile.Rootless ? BuildkitdConfigInput.DefaultUnixSocket : "unix:///run/buildkit/buildkitd.sock",
        };
        try
        {
            var config = BuildkitdConfigRenderer.Render(input);
            return new CacheVolumeSettings(size, idle, config.Toml, errors) { Budget = config.Budget };
        }
        catch (ArgumentException ex)
        {
            return new CacheVolumeSettings(size, idle, string.Empty, [$"BuilderPool {pool.Metadata.Name}: {ex.Message}"]);
        }
    }
}
