using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using BuildPool.Api.Units;

namespace BuildPool.Operator.Rendering;

/// <summary>
/// Writes a builder's <c>buildkitd.toml</c>: gRPC listeners and TLS, the worker's GC policy in
/// the field names of the builder's BuildKit version, registries, and build history limits.
/// A pure function: the same input gives the same text, byte for byte, because the text's hash
/// decides whether a builder is drained and restarted (BuildKit reads the file only at start).
/// </summary>
public static class BuildkitdConfigRenderer
{
    private static readonly string[] SourceLocal = ["type==source.local"];
    private static readonly string[] ExecCacheMount = ["type==exec.cachemount"];
    private static readonly string[] GitCheckout = ["type==source.git.checkout"];

    /// <summary>Renders the file, or explains (naming the spec field) why the input cannot be rendered.</summary>
    public static bool TryRender(BuildkitdConfigInput input, [NotNullWhen(true)] out BuildkitdConfig? config, [NotNullWhen(false)] out string? reason)
    {
        ArgumentNullException.ThrowIfNull(input);
        config = null;
        if (input.VolumeSizeBytes <= 0)
        {
            reason = "spec.cache.volume.size: the volume size must be more than 0 bytes";
            return false;
        }

        if (!GcBudget.TryCompute(input.VolumeSizeBytes, input.Gc, input.CacheMounts, out var budget, out reason))
        {
            return false;
        }

        BuildkitVersion? version = BuildkitVersion.TryParse(input.VersionTag, out var v) ? v : null;

        // An unknown tag (latest, master, a digest) is most likely a recent build, and old field
        // names are deprecated there, so the newest format is the better guess.
        var dialect = version is { } known && known.IsBefore(BuildkitVersion.ReservedSpaceFields)
            ? BuildkitdConfigDialect.KeepBytes
            : BuildkitdConfigDialect.ReservedSpace;

        var w = new TomlWriter();
        WriteHeader(w, version, dialect, budget);
        WriteGrpc(w, input);
        WriteWorker(w, input, dialect, budget);
        WriteRegistries(w, input.Registries);
        if (version is not { } old || !old.IsBefore(BuildkitVersion.HistoryTable))
        {
            WriteHistory(w, input, dialect);
        }

        config = new BuildkitdConfig(w.ToString(), dialect, version, budget);
        return true;
    }

    /// <summary>Renders the file.</summary>
    /// <exception cref="ArgumentException">The input cannot be rendered; the message names the spec field.</exception>
    public static BuildkitdConfig Render(BuildkitdConfigInput input) =>
        TryRender(input, out var config, out var reason) ? config : throw new ArgumentException(reason, nameof(input));

    private static void WriteHeader(TomlWriter w, BuildkitVersion? version, BuildkitdConfigDialect dialect, GcBudget budget)
    {
        w.Comment("buildkitd.toml rendered by the BuildPool operator; edits are overwritten.");
        w.Comment(version is { } v
            ? $"BuildKit {v}: {DialectName(dialect)}."
            : $"BuildKit version unknown (the image tag is not a version): {DialectName(dialect)}, the newest format.");
        w.Comment($"Cache volume {Quantity.Format(budget.VolumeSizeBytes)}; BuildKit reads this file only at start.");
        foreach (var adjustment in budget.Adjustments)
        {
            w.Comment(adjustment);
        }
    }

    private static string DialectName(BuildkitdConfigDialect dialect) => dialect switch
    {
        BuildkitdConfigDialect.KeepBytes => "GC in keepBytes fields (before 0.17)",
        _ => "GC in reservedSpace/maxUsedSpace/minFreeSpace fields (0.17 and later)",
    };

    private static void WriteGrpc(TomlWriter w, BuildkitdConfigInput input)
    {
        w.BlankLine();
        w.Table(0, "grpc");
        w.Key("address", input.UnixSocket is null ? [input.TcpAddress] : [input.TcpAddress, input.UnixSocket]);
        if (input.Tls is { } tls)
        {
            w.BlankLine();
            w.Table(0, "grpc", "tls");
            w.Key("cert", tls.CertPath);
            w.Key("key", tls.KeyPath);
            if (tls.CaPath is not null)
            {
                w.Key("ca", tls.CaPath);
            }
        }
    }

    private static void WriteWorker(TomlWriter w, BuildkitdConfigInput input, BuildkitdConfigDialect dialect, GcBudget budget)
    {
        w.BlankLine();
        w.Table(0, "worker", "oci");
        w.Key("gc", true);
        if (input.MaxParallelism is { } parallelism)
        {
            w.Key("max-parallelism", parallelism);
        }

        // Worker-level limits only feed BuildKit's built-in policy, which the explicit list
        // below replaces; they are written so `buildctl debug workers` and readers see the budget.
        if (dialect == BuildkitdConfigDialect.KeepBytes)
        {
            // gckeepstorage is in MB (10^6 bytes); round down so it never exceeds maxUsedSpace.
            w.Key("gckeepstorage", budget.MaxUsedSpaceBytes / 1_000_000, "MB, maxUsedSpace");
        }
        else
        {
            w.Key("reservedSpace", budget.ReservedSpaceBytes, Size(budget.ReservedSpaceBytes));
            w.Key("maxUsedSpace", budget.MaxUsedSpaceBytes, Size(budget.MaxUsedSpaceBytes));
            w.Key("minFreeSpace", budget.MinFreeSpaceBytes, Size(budget.MinFreeSpaceBytes));
        }

        foreach (var policy in Policies(budget))
        {
            w.BlankLine();
            w.Comment(policy.Comment, 2);
            w.ArrayTable(2, "worker", "oci", "gcpolicy");
            WritePolicy(w, policy, dialect, budget);
        }
    }

    /// <summary>One <c>[[worker.oci.gcpolicy]]</c> entry before it is put into a dialect's field names.</summary>
    private sealed record Policy(string Comment, bool All, string[] Filters, TimeSpan? KeepDuration, bool CapAtReserved);

    /// <summary>
    /// BuildKit's own default policy shape, scaled to the volume. BuildKit runs the entries in
    /// order and stops once the cache is within limits, so the cheapest-to-rebuild data goes first.
    /// </summary>
    private static IEnumerable<Policy> Policies(GcBudget budget)
    {
        var keep = GoDuration.Format(budget.KeepDuration);

        // Separate filter strings, because BuildKit ORs them; inside one string a comma means
        // AND in containerd's filter syntax, and a record has only one type.
        if (budget.CacheMountKeepDuration > budget.KeepDuration)
        {
            // A cache mount rule asks to keep some mount longer than keepDuration: the daemon must
            // not delete it sooner on its own. Targeted prunes enforce the shorter per-mount limits.
            yield return new Policy(
                $"1a. Local sources and git checkouts unused for {keep}, once the cache passes reservedSpace.",
                false, [.. SourceLocal, .. GitCheckout], budget.KeepDuration, CapAtReserved: true);
            yield return new Policy(
                $"1b. Cache mounts unused for {GoDuration.Format(budget.CacheMountKeepDuration)} (the longest cache mount rule), once the cache passes reservedSpace.",
                false, ExecCacheMount, budget.CacheMountKeepDuration, CapAtReserved: true);
        }
        else
        {
            yield return new Policy(
                $"1. Local sources, cache mounts and git checkouts unused for {keep}, once the cache passes reservedSpace.",
                false, [.. SourceLocal, .. ExecCacheMount, .. GitCheckout], budget.KeepDuration, CapAtReserved: true);
        }

        yield return new Policy("2. Anything unused for 60 days, while the cache is over its limits.", false, [], GcBudget.StaleAfter, CapAtReserved: false);
        yield return new Policy("3. Unshared cache, while the cache is over its limits.", false, [], null, CapAtReserved: false);
        yield return new Policy("4. All cache, shared and internal records too, while the cache is over its limits.", true, [], null, CapAtReserved: false);
    }

    private static void WritePolicy(TomlWriter w, Policy policy, BuildkitdConfigDialect dialect, GcBudget budget)
    {
        if (policy.All)
        {
            w.Key("all", true);
        }

        if (policy.Filters.Length > 0)
        {
            w.Key("filters", policy.Filters);
        }

        if (policy.KeepDuration is { } duration)
        {
            if (dialect == BuildkitdConfigDialect.KeepBytes)
            {
                w.Key("keepDuration", (long)duration.TotalSeconds, GoDuration.Format(duration));
            }
            else
            {
                w.Key("keepDuration", GoDuration.Format(duration));
            }
        }

        // The first policy collects stale easily rebuilt data as soon as the cache is bigger than
        // reservedSpace (BuildKit's default uses a fixed 512MB there; the reserve scales with the
        // volume). A policy without any size limit would delete every matching record.
        var cap = policy.CapAtReserved ? budget.ReservedSpaceBytes : budget.MaxUsedSpaceBytes;
        if (dialect == BuildkitdConfigDialect.KeepBytes)
        {
            // keepBytes is the only limit before 0.17; maxUsedSpace already leaves minFreeSpace free.
            w.Key("keepBytes", cap, Size(cap));
        }
        else if (policy.CapAtReserved)
        {
            w.Key("maxUsedSpace", cap, Size(cap));
        }
        else
        {
            w.Key("reservedSpace", budget.ReservedSpaceBytes, Size(budget.ReservedSpaceBytes));
            w.Key("maxUsedSpace", budget.MaxUsedSpaceBytes, Size(budget.MaxUsedSpaceBytes));
            w.Key("minFreeSpace", budget.MinFreeSpaceBytes, Size(budget.MinFreeSpaceBytes));
        }
    }

    private static void WriteRegistries(TomlWriter w, IReadOnlyList<RegistryConfig> registries)
    {
        foreach (var registry in Merge(registries))
        {
            // An entry that sets nothing would only add an empty table.
            if (registry.Mirrors.Count == 0 && !registry.Http && !registry.Insecure && registry.CaPaths.Count == 0 && registry.KeyPairs.Count == 0)
            {
                continue;
            }

            var host = TomlWriter.Quote(registry.Host);
            w.BlankLine();
            w.Table(0, "registry", host);
            if (registry.Mirrors.Count > 0)
            {
                w.Key("mirrors", registry.Mirrors);
            }

            // Written only when true: BuildKit treats an unset http/insecure differently from an
            // explicit false (it may pick plain HTTP for localhost registries on its own).
            if (registry.Http)
            {
                w.Key("http", true);
            }

            if (registry.Insecure)
            {
                w.Key("insecure", true);
            }

            if (registry.CaPaths.Count > 0)
            {
                w.Key("ca", registry.CaPaths);
            }

            foreach (var pair in registry.KeyPairs)
            {
                w.BlankLine();
                w.ArrayTable(2, "registry", host, "keypair");
                w.Key("key", pair.KeyPath);
                w.Key("cert", pair.CertPath);
            }
        }
    }

    /// <summary>
    /// One table per host, sorted by host. The same host may come from spec.builder.registries
    /// and from a SecretBinding's registry TLS; a TOML table may be defined only once, so the
    /// entries are merged (mirrors and files in first-seen order, flags if any entry sets them).
    /// </summary>
    private static IEnumerable<RegistryConfig> Merge(IReadOnlyList<RegistryConfig> registries) =>
        registries
            .GroupBy(r => r.Host, StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => new RegistryConfig
            {
                Host = g.Key,
                Mirrors = g.SelectMany(r => r.Mirrors).Distinct(StringComparer.Ordinal).ToArray(),
                Http = g.Any(r => r.Http),
                Insecure = g.Any(r => r.Insecure),
                CaPaths = g.SelectMany(r => r.CaPaths).Distinct(StringComparer.Ordinal).ToArray(),
                KeyPairs = g.SelectMany(r => r.KeyPairs).Distinct().ToArray(),
            });

    private static void WriteHistory(TomlWriter w, BuildkitdConfigInput input, BuildkitdConfigDialect dialect)
    {
        if (input.HistoryMaxAge is null && input.HistoryMaxEntries is null)
        {
            return;
        }

        w.BlankLine();
        w.Table(0, "history");
        if (input.HistoryMaxAge is { } age)
        {
            // An integer of seconds before 0.17 (BuildKit 0.11 reads an int64); a Go duration after.
            if (dialect == BuildkitdConfigDialect.KeepBytes)
            {
                w.Key("maxAge", (long)age.TotalSeconds, GoDuration.Format(age));
            }
            else
            {
                w.Key("maxAge", GoDuration.Format(age));
            }
        }

        if (input.HistoryMaxEntries is { } entries)
        {
            w.Key("maxEntries", entries);
        }
    }

    // A readable size next to a byte count, only where it adds something.
    private static string? Size(long bytes)
    {
        var formatted = Quantity.FormatApproximate(bytes);
        return formatted == bytes.ToString(CultureInfo.InvariantCulture) ? null : formatted;
    }
}
