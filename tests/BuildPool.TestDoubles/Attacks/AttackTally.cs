using System.Collections.Concurrent;
using Grpc.Core;

namespace BuildPool.TestDoubles.Attacks;

/// <summary>What the gateway did with an attacker's calls and connections: counts per outcome, and the first message of each.</summary>
public sealed class AttackTally
{
    private readonly ConcurrentDictionary<string, int> _counts = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> _firstMessages = new(StringComparer.Ordinal);
    private int _sent;

    /// <summary>Calls or connections the attacker started.</summary>
    public int Sent => Volatile.Read(ref _sent);

    /// <summary>Outcome name (a gRPC status such as <c>InvalidArgument</c>, or <c>connection closed</c>) to how many ended so.</summary>
    public IReadOnlyDictionary<string, int> Outcomes => _counts.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);

    /// <summary>The first message the gateway gave with each outcome: a refusal must name its limit.</summary>
    public IReadOnlyDictionary<string, string> FirstMessages => _firstMessages.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);

    public void CountSent() => Interlocked.Increment(ref _sent);

    public void Count(StatusCode status, string? message) => Count(status.ToString(), message);

    public void Count(string outcome, string? message, int times = 1)
    {
        if (times <= 0)
        {
            return;
        }

        _counts.AddOrUpdate(outcome, times, (_, n) => n + times);
        if (message is not null)
        {
            _firstMessages.TryAdd(outcome, message);
        }
    }

    /// <summary>E.g. <c>InvalidArgument 24 ("ref is 4194240 bytes, ...")</c>, outcomes in order of count.</summary>
    public override string ToString() =>
        Outcomes.Count == 0
            ? $"{Sent} sent, none answered"
            : $"{Sent} sent; " + string.Join("; ", Outcomes.OrderByDescending(p => p.Value).Select(p =>
                FirstMessages.TryGetValue(p.Key, out var message) ? $"{p.Key} {p.Value} (\"{Shorten(message)}\")" : $"{p.Key} {p.Value}"));

    private static string Shorten(string message) => message.Length <= 120 ? message : message[..117] + "...";
}
