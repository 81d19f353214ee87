using BuildPool.Api.V1Alpha1;

namespace BuildPool.Operator.Registry;

/// <summary>What the CRD schema cannot check about a target; each error names its field.</summary>
public static class RegistryCacheTargetValidator
{
    public static IReadOnlyList<string> Validate(RegistryCacheTarget target, out CacheRef? cacheRef, out RetentionLimits? limits)
    {
        ArgumentNullException.ThrowIfNull(target);
        var errors = new List<string>();
        var spec = target.Spec;
        cacheRef = null;
        if (spec.Managed && ManagedRegistry.NameError(target.Metadata.Name) is { } nameError)
        {
            errors.Add(nameError);
        }

        if (!spec.Ref.Contains(CacheRef.KeyPlaceholder, StringComparison.Ordinal))
        {
            errors.Add($"spec.ref: \"{spec.Ref}\" must contain {CacheRef.KeyPlaceholder}, which each build's routing key replaces");
        }
        else if (!CacheRef.TryParse(EffectiveRef(target), out cacheRef, out var refError))
        {
            errors.Add($"spec.ref: {refError}");
        }

        if (spec.ImageManifest && !spec.OciMediatypes)
        {
            errors.Add("spec.ociMediatypes: must be true when spec.imageManifest is true (BuildKit writes image-manifest caches with OCI media types only)");
        }

        var levelMax = spec.Compression == CacheCompression.Zstd ? 22 : 9;
        if (spec.CompressionLevel is { } level && (level < 0 || level > levelMax))
        {
            errors.Add($"spec.compressionLevel: {level} is outside 0-{levelMax} for {spec.Compression.ToString().ToLowerInvariant()}");
        }

        if (!RetentionLimits.TryFrom(spec.Retention, "spec.retention", out limits, out var retentionErrors))
        {
            errors.AddRange(retentionErrors);
        }

        if (spec.Retention is not null && !(limits?.IsNone ?? true) && cacheRef is { KeyInRepository: true } r && !(r.RepositoryPrefix ?? "").EndsWith('/'))
        {
            errors.Add($"spec.retention: needs a fixed repository directory before {CacheRef.KeyPlaceholder} in spec.ref (like host/cache/{CacheRef.KeyPlaceholder}); otherwise retention could match other repositories");
        }

        return errors;
    }

    /// <summary>
    /// The ref builds and GC use: spec.ref, or for a managed target spec.ref on the in-cluster
    /// registry (its host, if it has one, replaced by <see cref="ManagedRegistry.Host"/>).
    /// </summary>
    public static string EffectiveRef(RegistryCacheTarget target)
    {
        ArgumentNullException.ThrowIfNull(target);
        return target.Spec.Managed ? ManagedRegistry.EffectiveRef(target.Spec.Ref, ManagedRegistry.Host(target)) : target.Spec.Ref;
    }
}
