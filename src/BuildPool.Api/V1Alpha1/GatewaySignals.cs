using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace BuildPool.Api.V1Alpha1;

/// <summary>
/// What a pool's gateway tells the operator (docs/lifecycle.md), defined once where both sides
/// see it. Every signal is one annotation on the pool's signal Lease (<see cref="LeaseName"/>),
/// which the operator creates and the gateway may only patch: the gateway can ask, never decide a
/// pool's spec or a volume's policy. One annotation per subject means gateway replicas never
/// overwrite each other's requests with a merge patch.
/// </summary>
/// <remarks>
/// Annotation names end in a hash of the subject (names are limited to 63 characters and a
/// volume name or key may be longer); the value says what the signal is about in plain text:
/// <c>&lt;RFC 3339 time&gt; &lt;subject&gt; [&lt;detail&gt;]</c>.
/// </remarks>
public static class GatewaySignals
{
    /// <summary>A build waits for this volume's stopped builder: <c>&lt;time&gt; &lt;volume&gt;</c>.</summary>
    public const string StartPrefix = "start.signals.buildpool.dev/";

    /// <summary>A build used this volume at that time (at most once a minute): <c>&lt;time&gt; &lt;volume&gt;</c>.</summary>
    public const string UsedPrefix = "used.signals.buildpool.dev/";

    /// <summary>A Private volume's builder is full and builds wait: <c>&lt;time&gt; &lt;volume&gt; &lt;forks wanted&gt;</c>.</summary>
    public const string ForksPrefix = "forks.signals.buildpool.dev/";

    /// <summary>One untrusted build needs an isolated fork: <c>&lt;time&gt; &lt;volume&gt; &lt;build id&gt;</c>, removed when it ends.</summary>
    public const string IsolatePrefix = "isolate.signals.buildpool.dev/";

    /// <summary>Dedicated mode: a key needs a volume: <c>&lt;time&gt; &lt;tenant or -&gt; &lt;key&gt;</c>, withdrawn by the gateway when no build waits for it any more.</summary>
    public const string DemandPrefix = "demand.signals.buildpool.dev/";

    /// <summary>The tenant written for a demand of a client without a tenant (anonymous, or a pool without bindings).</summary>
    public const string NoTenant = "-";

    /// <summary>The pool's signal Lease.</summary>
    public static string LeaseName(string pool) => $"{pool}-signals";

    /// <summary>The annotation asking to start <paramref name="volume"/>'s builder.</summary>
    public static KeyValuePair<string, string> Start(string volume, DateTimeOffset at) => new(StartPrefix + Hash(volume), $"{Timestamp(at)} {volume}");

    /// <summary>The heartbeat annotation of <paramref name="volume"/>.</summary>
    public static KeyValuePair<string, string> Used(string volume, DateTimeOffset at) => new(UsedPrefix + Hash(volume), $"{Timestamp(at)} {volume}");

    /// <summary>The annotation asking for <paramref name="wanted"/> overflow forks of <paramref name="volume"/>.</summary>
    public static KeyValuePair<string, string> Forks(string volume, int wanted, DateTimeOffset at) =>
        new(ForksPrefix + Hash(volume), $"{Timestamp(at)} {volume} {wanted.ToString(CultureInfo.InvariantCulture)}");

    /// <summary>The annotation asking for an isolated fork of <paramref name="volume"/> for untrusted build <paramref name="build"/>.</summary>
    public static KeyValuePair<string, string> Isolate(string volume, string build, DateTimeOffset at) =>
        new(IsolateName(volume, build), $"{Timestamp(at)} {volume} {build}");

    /// <summary>The annotation of one untrusted build's request (to remove it when the build ends).</summary>
    public static string IsolateName(string volume, string build) => IsolatePrefix + Hash(volume + "/" + build);

    /// <param name="key">The routing key; last in the value, so it is read whole.</param>
    /// <param name="tenant">The tenant the gateway resolved for the build; null or empty for none.</param>
    /// <param name="at">When a build last asked.</param>
    public static KeyValuePair<string, string> Demand(string key, string? tenant, DateTimeOffset at) =>
        new(DemandName(key), $"{Timestamp(at)} {(string.IsNullOrEmpty(tenant) || tenant.Any(char.IsWhiteSpace) ? NoTenant : tenant)} {key}");

    /// <summary>The annotation name of <paramref name="key"/>'s demand.</summary>
    public static string DemandName(string key) => DemandPrefix + Hash(key);

    /// <summary>
    /// Reads one annotation of the Lease; null for an annotation that is not a signal. A signal
    /// whose value cannot be read comes back with <see cref="GatewaySignal.Invalid"/> set, so the
    /// operator can drop it and say why.
    /// </summary>
    public static GatewaySignal? Parse(string name, string value)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(value);
        var kind = name switch
        {
            _ when name.StartsWith(StartPrefix, StringComparison.Ordinal) => GatewaySignalKind.Start,
            _ when name.StartsWith(UsedPrefix, StringComparison.Ordinal) => GatewaySignalKind.Used,
            _ when name.StartsWith(ForksPrefix, StringComparison.Ordinal) => GatewaySignalKind.Forks,
            _ when name.StartsWith(IsolatePrefix, StringComparison.Ordinal) => GatewaySignalKind.Isolate,
            _ when name.StartsWith(DemandPrefix, StringComparison.Ordinal) => GatewaySignalKind.Demand,
            _ => (GatewaySignalKind?)null,
        };
        if (kind is not { } k)
        {
            return null;
        }

        var parts = value.Split(' ', k == GatewaySignalKind.Demand ? 3 : 4);
        var fields = k is GatewaySignalKind.Start or GatewaySignalKind.Used ? 2 : 3;
        if (parts.Length != fields || !TryParseTime(parts[0], out var at) || parts[1].Length == 0 || parts[^1].Length == 0)
        {
            return new GatewaySignal(name, k, DateTime.MinValue, string.Empty, null) { Invalid = $"the value \"{Truncate(value)}\" is not \"<time> <subject>{(fields == 3 ? " <detail>" : string.Empty)}\"" };
        }

        var signal = new GatewaySignal(name, k, at, parts[1], fields == 3 ? parts[2] : null);
        if (k == GatewaySignalKind.Forks && !int.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out _))
        {
            return signal with { Invalid = $"forks wanted \"{Truncate(parts[2])}\" is not a whole number" };
        }

        return signal;
    }

    /// <summary>Every signal on the Lease's annotations, in annotation order.</summary>
    public static IEnumerable<GatewaySignal> ParseAll(IDictionary<string, string>? annotations)
    {
        foreach (var (name, value) in annotations ?? new Dictionary<string, string>())
        {
            if (Parse(name, value) is { } signal)
            {
                yield return signal;
            }
        }
    }

    /// <summary>The value's time format: RFC 3339 in UTC, to the second.</summary>
    public static string Timestamp(DateTimeOffset at) =>
        at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private static bool TryParseTime(string text, out DateTime at) =>
        DateTime.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out at);

    private static string Hash(string subject) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(subject)))[..16];

    private static string Truncate(string text) => text.Length <= 64 ? text : text[..64] + "…";
}
