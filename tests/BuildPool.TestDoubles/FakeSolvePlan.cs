using System.Security.Cryptography;
using System.Text;
using BuildPool.BuildKit.Protocol;

namespace BuildPool.TestDoubles;

/// <summary>
/// What one fake Solve reports and caches: its vertices (digest, inputs, name, cached) and the
/// cache keys it adds when it ends. Built from a <see cref="FakeDockerfile"/> against a builder's
/// <see cref="FakeBuildCache"/>, or from a fixed step list.
/// </summary>
internal sealed class FakeSolvePlan
{
    private FakeSolvePlan(IReadOnlyList<Vertex> vertexes, IReadOnlyList<string> keys)
    {
        Vertexes = vertexes;
        Keys = keys;
    }

    /// <summary>Each vertex as first reported: cached ones complete, the others only started.</summary>
    public IReadOnlyList<Vertex> Vertexes { get; }

    /// <summary>The cache keys of the steps this build produced (added when it succeeds).</summary>
    public IReadOnlyList<string> Keys { get; }

    /// <summary>The old fixed steps: digests unique to the build, cached flags as listed.</summary>
    public static FakeSolvePlan Fixed(IReadOnlyList<FakeBuildStep> steps, string reference) =>
        new(steps.Select((s, i) => new Vertex { Digest = Digest(reference + "/" + i), Name = s.Name, Cached = s.Cached }).ToList(), []);

    /// <summary>The Dockerfile the Solve names, or null when it names none.</summary>
    public static FakeSolvePlan? For(SolveRequest request, FakeBuildCache cache)
    {
        if (!request.FrontendAttrs.TryGetValue(FakeDockerfile.Attribute, out var json))
        {
            return null;
        }

        var dockerfile = FakeDockerfile.FromJson(json);
        var arguments = request.FrontendAttrs
            .Where(a => a.Key.StartsWith("build-arg:", StringComparison.Ordinal))
            .ToDictionary(a => a.Key["build-arg:".Length..], a => a.Value, StringComparer.Ordinal);
        var context = request.FrontendAttrs.GetValueOrDefault(FakeDockerfile.ContextAttribute, string.Empty);
        var noCache = request.FrontendAttrs.TryGetValue("no-cache", out var stages)
            ? stages.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet(StringComparer.Ordinal)
            : null;

        var names = dockerfile.NamesWith(arguments);
        var digests = new string[names.Count];
        var keys = new string[names.Count];
        var executed = new bool[names.Count];
        var vertexes = new List<Vertex>(names.Count);
        var produced = new List<string>();
        for (var i = 0; i < names.Count; i++)
        {
            var step = dockerfile.Steps[i];
            var inputs = step.Inputs;
            // The cache key: the definition, the inputs' keys and, for a step that reads the
            // context, the content it read.
            keys[i] = Digest("key\n" + names[i] + "\n" + string.Join('\n', inputs.Select(n => keys[n])) + (step.ReadsContext ? "\n" + context : string.Empty));
            // The vertex digest: unique per build for the frontend's steps and for whatever reads
            // the context (its local source carries a per-build attribute), else the definition's.
            digests[i] = step.IsInternal || dockerfile.ReadsContext(i)
                ? Digest(request.Ref + "/" + i)
                : Digest("op\n" + names[i] + "\n" + string.Join('\n', inputs.Select(n => digests[n])));
            var skipCache = noCache is not null && (noCache.Count == 0 || noCache.Contains(StageOf(names[i])));
            executed[i] = step.IsInternal
                || skipCache
                || !cache.Contains(keys[i])
                || inputs.Any(n => executed[n] && !dockerfile.Steps[n].IsInternal);
            var vertex = new Vertex { Digest = digests[i], Name = names[i], Cached = !executed[i] };
            vertex.Inputs.AddRange(inputs.Select(n => digests[n]));
            vertexes.Add(vertex);
            if (!step.IsInternal)
            {
                produced.Add(keys[i]);
            }
        }

        return new FakeSolvePlan(vertexes, produced);
    }

    // "[build 2/5] RUN …" is stage "build"; an unnamed stage is "stage-N" as the frontend names it.
    private static string StageOf(string name)
    {
        if (!name.StartsWith('[') || name.IndexOf(']', StringComparison.Ordinal) is var end && end < 0)
        {
            return string.Empty;
        }

        var inside = name[1..end];
        var space = inside.LastIndexOf(' ');
        return space < 0 ? "stage-0" : inside[..space];
    }

    internal static string Digest(string text) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
}
