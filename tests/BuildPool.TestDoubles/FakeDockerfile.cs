using System.Text.Json;
using System.Text.RegularExpressions;

namespace BuildPool.TestDoubles;

/// <summary>
/// A Dockerfile as a fake builder solves it: its vertices in the order the frontend reports them,
/// with their inputs, which of them read the build context, and default build-argument values.
/// The fake client sends it with the Solve (real buildx sends the Dockerfile through the session;
/// the fake daemon only needs the graph, not a parser).
/// </summary>
/// <remarks>
/// The fake daemon follows what real buildkitd reports (BUILDKIT-FACTS, "Vertex digests are not
/// cache keys"): <c>[internal]</c> vertices and every step that reads the context directly or
/// through its inputs get a new digest on every build; the other steps keep theirs from build to
/// build and change it when their (argument-substituted) definition changes.
/// </remarks>
public sealed partial record FakeDockerfile(IReadOnlyList<FakeDockerfileStep> Steps, IReadOnlyDictionary<string, string> Arguments)
{
    /// <summary>The frontend attribute the fake client puts the graph in (stands in for the Dockerfile read through the session).</summary>
    public const string Attribute = "x-fake-dockerfile";

    /// <summary>The frontend attribute carrying <see cref="FakeBuildxOptions.ContextContentId"/> (stands in for the files file sync would send).</summary>
    public const string ContextAttribute = "x-fake-context-id";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>
    /// The four-step Dockerfile of BUILDKIT-FACTS:
    /// <c>FROM reg/img:1</c>, <c>ARG V=1</c>, <c>RUN echo base-$V &gt; /b</c>, <c>COPY data.txt /d</c>, <c>RUN cat /d /b &gt; /e</c>.
    /// </summary>
    /// <param name="baseDigest">What the base image tag resolves to now (a re-tagged base resolves to another).</param>
    public static FakeDockerfile FourSteps(string baseImage = "reg/img:1", string baseDigest = "sha256:3e39b1c7c0a8") =>
        new(
            [
                .. Internals(baseImage),
                new($"[1/4] FROM {baseImage}@{baseDigest}", []),
                new("[2/4] RUN echo base-$V > /b", [4]),
                new("[3/4] COPY data.txt /d", [5, 3], ReadsContext: true),
                new("[4/4] RUN cat /d /b > /e", [6]),
            ],
            new Dictionary<string, string> { ["V"] = "1" });

    /// <summary>
    /// A two-stage Go build: <c>FROM golang AS build</c> (install git at <c>$GIT_VERSION</c>, copy
    /// go.mod, download modules, build), then <c>FROM alpine</c> with the binary copied from the first stage.
    /// </summary>
    public static FakeDockerfile MultiStage(string goVersion = "1.23") =>
        new(
            [
                .. Internals($"reg/golang:{goVersion}"),
                new("[internal] load metadata for reg/alpine:3.20", []),
                new($"[build 1/5] FROM reg/golang:{goVersion}@sha256:5d2a0c4e1f", []),
                new("[build 2/5] RUN apk add --no-cache git=$GIT_VERSION", [5]),
                new("[build 3/5] COPY go.mod go.sum ./", [6, 3], ReadsContext: true),
                new("[build 4/5] RUN go mod download", [7]),
                new("[build 5/5] RUN --mount=type=cache,target=/root/.cache/go-build go build -o /app .", [8]),
                new("[stage-1 1/2] FROM reg/alpine:3.20@sha256:77ae31c2d9", []),
                new("[stage-1 2/2] COPY --from=build /app /app", [10, 9]),
            ],
            new Dictionary<string, string> { ["GIT_VERSION"] = "2.45.2-r0" });

    /// <summary>The vertex names after argument substitution, in order.</summary>
    public IReadOnlyList<string> NamesWith(IReadOnlyDictionary<string, string>? arguments) =>
        Steps.Select(s => Substitute(s.Name, arguments)).ToList();

    /// <summary>Whether step <paramref name="index"/> reads the context itself or through its inputs.</summary>
    public bool ReadsContext(int index) => Steps[index].ReadsContext || Steps[index].Inputs.Any(ReadsContext);

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public static FakeDockerfile FromJson(string json) =>
        JsonSerializer.Deserialize<FakeDockerfile>(json, Json) ?? throw new ArgumentException("no Dockerfile model", nameof(json));

    internal string Substitute(string name, IReadOnlyDictionary<string, string>? arguments) =>
        Argument().Replace(name, m =>
        {
            var argument = m.Groups[1].Success ? m.Groups[1].Value : m.Groups[2].Value;
            return arguments?.GetValueOrDefault(argument) ?? Arguments.GetValueOrDefault(argument) ?? string.Empty;
        });

    private static FakeDockerfileStep[] Internals(string baseImage) =>
    [
        new("[internal] load build definition from Dockerfile", []),
        new("[internal] load .dockerignore", []),
        new($"[internal] load metadata for {baseImage}", []),
        new("[internal] load build context", [], ReadsContext: true),
    ];

    [GeneratedRegex(@"\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)")]
    private static partial Regex Argument();
}
