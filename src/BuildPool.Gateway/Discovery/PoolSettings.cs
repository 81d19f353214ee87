using System.Globalization;
using BuildPool.Api.Units;
using BuildPool.Api.V1Alpha1;
using BuildPool.Gateway.Routing;
using BuildPool.Gateway.Server;
using ApiMode = BuildPool.Api.V1Alpha1.AssignmentMode;
using ApiSource = BuildPool.Api.V1Alpha1.RoutingKeySource;
using Mode = BuildPool.Gateway.Routing.AssignmentMode;
using Source = BuildPool.Gateway.Routing.RoutingKeySource;

namespace BuildPool.Gateway.Discovery;

/// <summary>
/// The parts of a BuilderPool's spec the gateway acts on. Pure: <see cref="From"/> reads a pool
/// and names the field when a value cannot be used.
/// </summary>
public sealed record PoolSettings
{
    public IReadOnlyList<Source> KeySources { get; init; } = KeyExtractor.DefaultSources;

    public string? Domain { get; init; }

    public double BoundedLoadFactor { get; init; } = 1.25;

    public TimeSpan QueueTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary><c>spec.builder.maxConcurrentBuilds</c>: slots of a Shared volume.</summary>
    public int MaxConcurrentBuilds { get; init; } = 4;

    public Mode Mode { get; init; } = Mode.Hashed;

    /// <summary><c>spec.scaling.startTimeout</c>: how long a build waits for a stopped builder before it spills.</summary>
    public TimeSpan StartTimeout { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary><c>spec.cache.sharing</c>: the sharing of volumes that set none.</summary>
    public CacheSharing Sharing { get; init; } = CacheSharing.Shared;

    /// <summary><c>spec.cache.forks</c>: how many forks the operator will make (applies live).</summary>
    public Isolation.ForkLimits Forks { get; init; } = new();

    /// <summary><c>spec.routing.untrustedKeys</c>: glob patterns of keys whose builds run isolated (applies live).</summary>
    public IReadOnlyList<string> UntrustedKeys { get; init; } = [];

    /// <summary>Reads <paramref name="pool"/>; throws <see cref="FormatException"/> naming the field of a value it cannot use.</summary>
    public static PoolSettings From(BuilderPool pool)
    {
        ArgumentNullException.ThrowIfNull(pool);
        var spec = pool.Spec ?? new BuilderPoolSpec();
        var routing = spec.Routing ?? new RoutingSpec();
        var sources = (routing.KeySources ?? []).Select(ToSource).Distinct().ToList();
        var loadFactor = routing.BoundedLoadFactor;
        if (!(loadFactor >= 1) || !double.IsFinite(loadFactor))
        {
            throw new FormatException(string.Create(CultureInfo.InvariantCulture, $"spec.routing.boundedLoadFactor {loadFactor}: must be at least 1"));
        }

        var maxBuilds = spec.Builder?.MaxConcurrentBuilds ?? 4;
        if (maxBuilds < 1)
        {
            throw new FormatException(string.Create(CultureInfo.InvariantCulture, $"spec.builder.maxConcurrentBuilds {maxBuilds}: must be at least 1"));
        }

        return new PoolSettings
        {
            KeySources = sources.Count > 0 ? sources : KeyExtractor.DefaultSources,
            Domain = string.IsNullOrWhiteSpace(routing.Domain) ? null : routing.Domain.Trim(),
            BoundedLoadFactor = loadFactor,
            QueueTimeout = GoDuration.ParsePositive("spec.routing.queueTimeout", routing.QueueTimeout),
            MaxConcurrentBuilds = maxBuilds,
            Mode = (spec.Assignment?.Mode ?? ApiMode.Hashed) == ApiMode.Dedicated ? Mode.Dedicated : Mode.Hashed,
            StartTimeout = GoDuration.ParsePositive("spec.scaling.startTimeout", spec.Scaling?.StartTimeout),
            Sharing = spec.Cache?.Sharing ?? CacheSharing.Shared,
            Forks = new Isolation.ForkLimits(spec.Cache?.Forks?.MaxPerVolume ?? 2, spec.Cache?.Forks?.MaxPerPool ?? 8),
            UntrustedKeys = [.. (routing.UntrustedKeys ?? []).Where(k => !string.IsNullOrWhiteSpace(k))],
        };
    }

    /// <summary>The gateway settings that come from the pool; the rest of <paramref name="options"/> stays.</summary>
    public GatewayOptions ApplyTo(GatewayOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options with
        {
            KeySources = KeySources,
            Domain = Domain,
            BoundedLoadFactor = BoundedLoadFactor,
            QueueTimeout = QueueTimeout,
            MaxConcurrentBuilds = MaxConcurrentBuilds,
            Mode = Mode,
            UntrustedKeys = UntrustedKeys,
        };
    }

    /// <summary>
    /// True when <paramref name="other"/> differs in a setting the running gateway was built with
    /// (key sources, domain, bounded load, queue timeout, assignment mode): only a restart applies it.
    /// Sharing, slots and the start timeout apply live.
    /// </summary>
    public bool NeedsRestartFor(PoolSettings other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return !KeySources.SequenceEqual(other.KeySources)
            || !string.Equals(Domain, other.Domain, StringComparison.Ordinal)
            || !BoundedLoadFactor.Equals(other.BoundedLoadFactor)
            || QueueTimeout != other.QueueTimeout
            || Mode != other.Mode;
    }

    private static Source ToSource(ApiSource source) => source switch
    {
        ApiSource.Authority => Source.Authority,
        ApiSource.ClientCertificate => Source.ClientCertificate,
        ApiSource.ImageName => Source.ImageName,
        ApiSource.CacheRef => Source.CacheRef,
        ApiSource.SessionDirectory => Source.SessionDirectory,
        _ => throw new FormatException($"spec.routing.keySources: unknown source '{source}'"),
    };
}
