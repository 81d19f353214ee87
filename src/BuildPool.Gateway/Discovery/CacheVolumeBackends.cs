using System.Globalization;
using System.Net;
using BuildPool.Api.V1Alpha1;
using BuildPool.Gateway.Routing;

namespace BuildPool.Gateway.Discovery;

/// <summary>
/// Turns a pool's CacheVolumes into the gateway's backends. Pure: the same volumes give the same
/// backends on every replica, so all of them hash keys alike.
/// </summary>
public static class CacheVolumeBackends
{
    /// <summary>The builder port the operator gives every builder Service.</summary>
    public const int BuilderPort = 1234;

    /// <summary>
    /// One backend per volume of <paramref name="pool"/> (by <c>spec.pool</c>), sorted by name.
    /// A volume whose endpoint cannot be read is left out and named in <paramref name="skipped"/>.
    /// </summary>
    public static IReadOnlyList<StaticBackend> From(IEnumerable<CacheVolume> volumes, string pool, PoolSettings settings, ICollection<string>? skipped = null)
    {
        ArgumentNullException.ThrowIfNull(volumes);
        ArgumentNullException.ThrowIfNull(settings);
        var backends = new List<StaticBackend>();
        foreach (var volume in volumes)
        {
            if (volume.Spec?.Pool != pool || string.IsNullOrEmpty(volume.Metadata?.Name))
            {
                continue;
            }

            if (ToBackend(volume, settings) is { } backend)
            {
                backends.Add(backend);
            }
            else
            {
                skipped?.Add(volume.Metadata.Name);
            }
        }

        backends.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        return backends;
    }

    /// <summary>
    /// One volume as a backend; null when its <c>status.endpoint</c> is not <c>[scheme://]host:port</c>.
    /// The scheme says how to dial it: <c>tcp://</c> (or none) cleartext HTTP/2, <c>tls://</c> or
    /// <c>https://</c> TLS with the gateway's <c>--upstream-*</c> settings.
    /// </summary>
    public static StaticBackend? ToBackend(CacheVolume volume, PoolSettings settings)
    {
        ArgumentNullException.ThrowIfNull(volume);
        ArgumentNullException.ThrowIfNull(settings);
        var name = volume.Metadata.Name;
        var endpoint = volume.Status?.Endpoint is { Length: > 0 } text
            ? ParseEndPoint(text)
            // Not running yet: the Service name it will have, so the backend exists (and holds builds) meanwhile.
            : new DnsEndPoint($"{name}-builder.{volume.Metadata.NamespaceProperty ?? "default"}.svc", BuilderPort);
        if (endpoint is null)
        {
            return null;
        }

        var sharing = volume.Spec.Sharing ?? settings.Sharing;
        // Only a fork the operator made counts (name, label and controller agree): a fork-of label
        // alone would let whoever may label a volume receive another volume's overflow builds.
        if (CacheVolumeForks.BaseOf(volume) is { } forkOf)
        {
            // A fork takes no key of its own and stays off the ring: fork routing alone sends builds here.
            var isolatedFor = CacheVolumeForks.IsolatedFor(volume);
            return new StaticBackend(name, endpoint)
            {
                State = StateOf(volume),
                MaxConcurrentBuilds = isolatedFor is not null || sharing == CacheSharing.Locked ? 1 : settings.MaxConcurrentBuilds,
                AcceptsHashedKeys = false,
                ForkOf = forkOf,
                IsolatedFor = isolatedFor,
            };
        }

        var keys = volume.Spec.Keys is { Count: > 0 } pinned ? pinned.Where(k => !string.IsNullOrEmpty(k)).ToArray() : [];
        return new StaticBackend(name, endpoint)
        {
            LastGC = volume.Status?.LastGC is { } gc ? new DateTimeOffset(DateTime.SpecifyKind(gc, DateTimeKind.Utc)) : null,
            Tls = volume.Status?.Endpoint is { Length: > 0 } written && UpstreamScheme.IsTls(written.Trim()),
            State = StateOf(volume),
            MaxConcurrentBuilds = sharing == CacheSharing.Locked ? 1 : settings.MaxConcurrentBuilds,
            Keys = keys,
            // A volume that pins keys is theirs ("a volume of their own"): hashed keys stay off it.
            AcceptsHashedKeys = keys.Length == 0,
            ForksOnOverflow = sharing == CacheSharing.Private,
        };
    }

    /// <summary>
    /// The phase as placement sees it (docs/lifecycle.md): Ready takes builds; Draining takes no
    /// new ones; Idle, Starting and Pending are stopped (a build asks for them and waits); Failed,
    /// a Stalled volume and one being deleted take nothing.
    /// </summary>
    public static BackendState StateOf(CacheVolume volume)
    {
        ArgumentNullException.ThrowIfNull(volume);
        if (volume.Metadata.DeletionTimestamp is not null)
        {
            return volume.Status?.Phase == CacheVolumePhase.Ready || volume.Status?.Phase == CacheVolumePhase.Draining
                ? BackendState.Draining
                : BackendState.Unavailable;
        }

        return volume.Status?.Phase switch
        {
            CacheVolumePhase.Ready => BackendState.Ready,
            CacheVolumePhase.Draining => BackendState.Draining,
            CacheVolumePhase.Failed => BackendState.Unavailable,
            // Stalled (invalid spec, pool missing): no demand will start it.
            CacheVolumePhase.Pending when IsStalled(volume) => BackendState.Unavailable,
            _ => BackendState.Stopped,
        };
    }

    internal static DnsEndPoint? ParseEndPoint(string text)
    {
        var trimmed = text.Trim();
        var hostPort = trimmed.Contains("://", StringComparison.Ordinal) ? UpstreamScheme.Strip(trimmed) : trimmed;
        if (hostPort is null)
        {
            return null;
        }

        hostPort = hostPort.TrimEnd('/');
        var colon = hostPort.LastIndexOf(':');
        if (colon <= 0 || colon < hostPort.LastIndexOf(']'))
        {
            return null;
        }

        var host = hostPort[..colon].Trim('[', ']');
        return host.Length > 0 && int.TryParse(hostPort.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port is > 0 and <= 65535
            ? new DnsEndPoint(host, port)
            : null;
    }

    private static bool IsStalled(CacheVolume volume) =>
        volume.Status?.Conditions?.Any(c => c.Type == "Stalled" && c.Status == "True") == true;
}
