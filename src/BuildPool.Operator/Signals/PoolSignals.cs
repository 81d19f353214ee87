using System.Globalization;
using BuildPool.Api.V1Alpha1;
using k8s.Models;

namespace BuildPool.Operator.Signals;

/// <summary>
/// Pure: a pool's signal Lease read once (<see cref="GatewaySignals"/>). The operator reads the
/// gateway's requests here and nowhere else: a request written on a CacheVolume or a BuilderPool
/// (which the gateway can no longer write) means nothing.
/// </summary>
public sealed class PoolSignals
{
    private readonly Dictionary<string, VolumeSignals> _volumes;

    private PoolSignals(Dictionary<string, VolumeSignals> volumes, IReadOnlyList<GatewaySignal> volumeSignals, IReadOnlyList<GatewaySignal> demands, IReadOnlyList<GatewaySignal> invalid)
    {
        _volumes = volumes;
        VolumeSignals = volumeSignals;
        Demands = demands;
        Invalid = invalid;
    }

    public static PoolSignals Empty { get; } = new(new Dictionary<string, VolumeSignals>(StringComparer.Ordinal), [], [], []);

    /// <summary>Every readable signal about a volume (start, used, forks, isolate).</summary>
    public IReadOnlyList<GatewaySignal> VolumeSignals { get; }

    /// <summary>Dedicated mode: keys that asked for a volume, oldest request first.</summary>
    public IReadOnlyList<GatewaySignal> Demands { get; }

    /// <summary>Signals whose value cannot be read (each says why): the pool reconcile removes them.</summary>
    public IReadOnlyList<GatewaySignal> Invalid { get; }

    public static PoolSignals Read(V1Lease? lease)
    {
        if (lease?.Metadata.Annotations is not { Count: > 0 } annotations)
        {
            return Empty;
        }

        var volumes = new Dictionary<string, VolumeSignals>(StringComparer.Ordinal);
        var demands = new List<GatewaySignal>();
        var invalid = new List<GatewaySignal>();
        var volumeSignals = new List<GatewaySignal>();
        foreach (var signal in GatewaySignals.ParseAll(annotations))
        {
            if (signal.Invalid is not null)
            {
                invalid.Add(signal);
                continue;
            }

            if (signal.Kind == GatewaySignalKind.Demand)
            {
                demands.Add(signal);
                continue;
            }

            volumeSignals.Add(signal);
            var known = volumes.GetValueOrDefault(signal.Subject) ?? Signals.VolumeSignals.None;
            volumes[signal.Subject] = signal.Kind switch
            {
                GatewaySignalKind.Start => known with { Start = signal.At },
                GatewaySignalKind.Used => known with { Used = signal.At },
                GatewaySignalKind.Forks => known with { ForksWanted = int.Parse(signal.Detail!, NumberStyles.None, CultureInfo.InvariantCulture), ForksWantedAt = signal.At },
                _ => known with { Isolated = new Dictionary<string, DateTime>(known.Isolated, StringComparer.Ordinal) { [signal.Detail!] = signal.At } },
            };
        }

        demands.Sort((a, b) => a.At != b.At ? a.At.CompareTo(b.At) : string.CompareOrdinal(a.Name, b.Name));
        return new PoolSignals(volumes, volumeSignals, demands, invalid);
    }

    /// <summary>The signals for one volume; <see cref="VolumeSignals.None"/> when there are none.</summary>
    public VolumeSignals For(string volume) => _volumes.GetValueOrDefault(volume) ?? Signals.VolumeSignals.None;
}
