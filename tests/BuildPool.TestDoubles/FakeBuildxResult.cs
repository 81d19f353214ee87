using BuildPool.BuildKit.Protocol;
using Grpc.Core;

namespace BuildPool.TestDoubles;

/// <summary>What happened to one simulated buildx build.</summary>
public sealed class FakeBuildxResult
{
    public required string Ref { get; init; }

    public required string SessionId { get; init; }

    public required string SharedKey { get; init; }

    /// <summary>Every call with its status and answering builder, in the order the calls finished (bootstrap first).</summary>
    public required IReadOnlyList<FakeBuildxCall> Calls { get; init; }

    /// <summary>The build's outcome: the first failure among Solve, Ping, Status, Session and ListWorkers, else OK.</summary>
    public StatusCode Status { get; init; }

    public string? Message { get; init; }

    public bool Succeeded => Status == StatusCode.OK;

    /// <summary>The builder that answered the Solve (its <c>x-fake-builder</c> header).</summary>
    public string? Builder => Calls.LastOrDefault(c => c.Method == "Solve")?.Builder;

    /// <summary>Distinct builders that answered the calls on the build connection (one when routing kept the build together).</summary>
    public IReadOnlySet<string> BuildBuilders => Calls.Where(c => !c.Bootstrap && c.Builder is not null).Select(c => c.Builder!).ToHashSet(StringComparer.Ordinal);

    /// <summary>Each vertex in its last reported state, in first-seen order.</summary>
    public IReadOnlyList<Vertex> Vertexes { get; init; } = [];

    public int CachedSteps => Vertexes.Count(v => v.Cached);

    public int TotalSteps => Vertexes.Count;

    /// <summary>Session messages that came back through the stream.</summary>
    public int SessionEchoes { get; init; }

    public IReadOnlyDictionary<string, string> ExporterResponse { get; init; } = new Dictionary<string, string>();

    public FakeBuildxCall? Call(string method) => Calls.LastOrDefault(c => c.Method == method);

    public override string ToString() =>
        $"{Ref}: {Status} {Message} via [{string.Join(", ", Calls.Select(c => $"{c.Method}={c.Status}@{c.Builder}"))}]";
}
