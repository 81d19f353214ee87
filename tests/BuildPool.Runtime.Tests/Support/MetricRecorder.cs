using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using BuildPool.Runtime.Metrics;

namespace BuildPool.Runtime.Tests.Support;

/// <summary>Sums the measurements of one <see cref="RuntimeMetrics"/> instance, by instrument and tags.</summary>
internal sealed class MetricRecorder : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<string, double> _sums = new();
    private readonly ConcurrentDictionary<string, int> _counts = new();

    public MetricRecorder(RuntimeMetrics metrics)
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (ReferenceEquals(instrument.Meter, metrics.Meter))
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.Start();
    }

    /// <summary>Sum of the values recorded on <paramref name="instrument"/> whose tags include all of <paramref name="tags"/> (<c>key=value</c>).</summary>
    public double Sum(string instrument, params string[] tags) =>
        _sums.Where(kv => Matches(kv.Key, instrument, tags)).Sum(kv => kv.Value);

    public int Count(string instrument, params string[] tags) =>
        _counts.Where(kv => Matches(kv.Key, instrument, tags)).Sum(kv => kv.Value);

    public void Dispose() => _listener.Dispose();

    private static bool Matches(string key, string instrument, string[] tags)
    {
        var parts = key.Split('|');
        return parts[0] == instrument && tags.All(parts.Contains);
    }

    private void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var key = instrument.Name;
        foreach (var tag in tags)
        {
            key += $"|{tag.Key}={tag.Value}";
        }

        _sums.AddOrUpdate(key, value, (_, sum) => sum + value);
        _counts.AddOrUpdate(key, 1, (_, count) => count + 1);
    }
}
