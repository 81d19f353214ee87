using BuildPool.Api.Units;
using BuildPool.Api.V1Alpha1;
using BuildPool.Operator.Naming;

namespace BuildPool.Operator.Pools;

/// <summary>
/// Checks the schema cannot express (or that a cluster without CEL support would miss). Each
/// message starts with the field path, so a person can find it in their YAML.
/// </summary>
public static class BuilderPoolValidator
{
    public static IReadOnlyList<string> Validate(BuilderPool pool)
    {
        ArgumentNullException.ThrowIfNull(pool);
        var errors = new List<string>();
        var spec = pool.Spec;
        if (pool.Metadata.Name.Length > ResourceNames.MaxPoolNameLength)
        {
            errors.Add($"metadata.name: must be at most {ResourceNames.MaxPoolNameLength} characters so builder Service names stay valid DNS labels");
        }

        long sizeBytes = 0;
        if (!Quantity.TryParse(spec.Cache.Volume.Size, out sizeBytes, out var sizeError))
        {
            errors.Add($"spec.cache.volume.size: {sizeError}");
        }
        else if (sizeBytes <= 0)
        {
            errors.Add("spec.cache.volume.size: must be greater than zero");
        }

        CheckQuantityOrPercent(errors, "spec.cache.gc.reservedSpace", spec.Cache.Gc.ReservedSpace);
        CheckQuantityOrPercent(errors, "spec.cache.gc.maxUsedSpace", spec.Cache.Gc.MaxUsedSpace);
        CheckQuantityOrPercent(errors, "spec.cache.gc.minFreeSpace", spec.Cache.Gc.MinFreeSpace);
        if (sizeBytes > 0
            && QuantityOrPercent.TryParse(spec.Cache.Gc.MaxUsedSpace, out var maxUsed, out _)
            && maxUsed.Resolve(sizeBytes) > sizeBytes)
        {
            errors.Add($"spec.cache.gc.maxUsedSpace: {spec.Cache.Gc.MaxUsedSpace} is larger than the volume ({spec.Cache.Volume.Size})");
        }

        CheckDuration(errors, "spec.cache.gc.keepDuration", spec.Cache.Gc.KeepDuration);
        CheckDuration(errors, "spec.scaling.idleTimeout", spec.Scaling.IdleTimeout);
        CheckDuration(errors, "spec.scaling.startTimeout", spec.Scaling.StartTimeout);
        CheckDuration(errors, "spec.routing.queueTimeout", spec.Routing.QueueTimeout);

        if (spec.Assignment.Mode == AssignmentMode.Hashed && spec.Scaling.WarmBuilders > spec.Assignment.Volumes)
        {
            errors.Add($"spec.scaling.warmBuilders: {spec.Scaling.WarmBuilders} is more than spec.assignment.volumes ({spec.Assignment.Volumes})");
        }

        if (spec.Assignment.Mode == AssignmentMode.Dedicated && spec.Scaling.WarmBuilders > spec.Assignment.MaxVolumes)
        {
            errors.Add($"spec.scaling.warmBuilders: {spec.Scaling.WarmBuilders} is more than spec.assignment.maxVolumes ({spec.Assignment.MaxVolumes})");
        }

        if (spec.Assignment.MaxVolumes < spec.Assignment.Volumes)
        {
            errors.Add($"spec.assignment.maxVolumes: {spec.Assignment.MaxVolumes} is less than spec.assignment.volumes ({spec.Assignment.Volumes})");
        }

        if (spec.Routing.KeySources.Count != spec.Routing.KeySources.Distinct().Count())
        {
            errors.Add("spec.routing.keySources: each source may appear once");
        }

        if (spec.Endpoint.Tls.Mode == TlsMode.FromSecret && string.IsNullOrEmpty(spec.Endpoint.Tls.SecretName))
        {
            errors.Add("spec.endpoint.tls.secretName: required when spec.endpoint.tls.mode is FromSecret");
        }

        for (var i = 0; i < (spec.Cache.CacheMounts?.Count ?? 0); i++)
        {
            var rule = spec.Cache.CacheMounts![i];
            CheckDuration(errors, $"spec.cache.cacheMounts[{i}].keepDuration", rule.KeepDuration);
            if (rule.MaxSize is not null && !Quantity.TryParse(rule.MaxSize, out _, out var e))
            {
                errors.Add($"spec.cache.cacheMounts[{i}].maxSize: {e}");
            }
        }

        if (spec.Cache.AutoGrow is { } grow)
        {
            if (!Quantity.TryParse(grow.MaxSize, out var max, out var e))
            {
                errors.Add($"spec.cache.autoGrow.maxSize: {e}");
            }
            else if (sizeBytes > 0 && max < sizeBytes)
            {
                errors.Add($"spec.cache.autoGrow.maxSize: {grow.MaxSize} is smaller than spec.cache.volume.size ({spec.Cache.Volume.Size})");
            }
        }

        return errors;
    }

    /// <summary>
    /// Why the pool cannot keep its untrusted tenants apart, or null: a ClientAccess binding marked
    /// untrusted while clients without a certificate may build. Such a tenant can leave its
    /// certificate out; the gateway then treats every anonymous build as untrusted, which the
    /// platform team did not ask for either. A person has to pick one of the two.
    /// </summary>
    public static string? AnonymousWithUntrusted(BuilderPool pool, IEnumerable<SecretBinding> bindings)
    {
        ArgumentNullException.ThrowIfNull(pool);
        ArgumentNullException.ThrowIfNull(bindings);
        var tls = pool.Spec.Endpoint.Tls;
        var anonymous = tls.Mode == TlsMode.Disabled ? "spec.endpoint.tls.mode is Disabled"
            : !tls.RequireClientCertificate ? "spec.endpoint.tls.requireClientCertificate is false"
            : null;
        var untrusted = bindings
            .Where(b => b.Spec.Kind == SecretBindingKind.ClientAccess && b.Spec.ClientAccess?.Untrusted == true && b.Spec.Pool == pool.Metadata.Name)
            .Select(b => $"{b.Metadata.NamespaceProperty}/{b.Metadata.Name}")
            .Order(StringComparer.Ordinal)
            .ToList();
        return anonymous is null || untrusted.Count == 0
            ? null
            : $"SecretBinding {string.Join(", ", untrusted)} (clientAccess.untrusted) cannot be enforced while clients without a certificate may build ({anonymous}): an untrusted tenant could leave its certificate out, so the gateway treats every build without a certificate as untrusted; require client certificates, or remove the untrusted binding";
    }

    private static void CheckQuantityOrPercent(List<string> errors, string field, string? value)
    {
        if (value is not null && !QuantityOrPercent.TryParse(value, out _, out var reason))
        {
            errors.Add($"{field}: {reason}");
        }
    }

    private static void CheckDuration(List<string> errors, string field, string? value)
    {
        if (value is not null && !GoDuration.TryParse(value, out _, out var reason))
        {
            errors.Add($"{field}: {reason}");
        }
    }
}
