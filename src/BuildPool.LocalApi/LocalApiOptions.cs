using Microsoft.Extensions.Logging;

namespace BuildPool.LocalApi;

/// <summary>Settings for <see cref="LocalApiServer"/>.</summary>
public sealed class LocalApiOptions
{
    /// <summary>TCP port on 127.0.0.1; 0 picks a free one (read it back from <see cref="LocalApiServer.BaseAddress"/>).</summary>
    public int Port { get; init; }

    /// <summary>A directory whose <c>*.yaml</c>/<c>*.yml</c> CRDs (multi-document allowed) are registered at start.</summary>
    public string? CrdDirectory { get; init; }

    /// <summary>How often watches that asked for <c>allowWatchBookmarks</c> get a BOOKMARK (the real server uses about a minute).</summary>
    public TimeSpan BookmarkInterval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How many events are kept for watch resume; resuming from an older revision gets 410 Gone.</summary>
    public int WatchHistoryLimit { get; init; } = 10_000;

    /// <summary>Clock for timestamps, AGE columns, bookmarks, watch timeouts and periodic watch drops.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>Where to log; nothing is logged (Kestrel included) when null.</summary>
    public ILoggerFactory? LoggerFactory { get; init; }

    /// <summary>Seed for generated names and fault injection, for reproducible runs.</summary>
    public int? RandomSeed { get; init; }

    /// <summary>
    /// The Kubernetes version <c>/version</c> reports. Discovery follows it where the project
    /// depends on the difference: below 1.21 PodDisruptionBudgets are served as
    /// <c>policy/v1beta1</c> only, as on a real server of that version.
    /// </summary>
    public Version KubernetesVersion { get; init; } = new(1, 32, 0);

    /// <summary>
    /// Optional JSON file holding all objects: loaded at start when present and written on
    /// <see cref="LocalApiServer.SaveAsync"/> and on dispose, so a local <c>make run</c> survives restarts.
    /// </summary>
    public string? DataFile { get; init; }
}
