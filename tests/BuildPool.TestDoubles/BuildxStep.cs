using System.Text.RegularExpressions;

namespace BuildPool.TestDoubles;

/// <summary>One vertex of a build as buildx's plain progress output shows it.</summary>
/// <param name="Number">The <c>#N</c> buildx gives the vertex in this build.</param>
/// <param name="Name">The vertex name, such as <c>[2/3] COPY a.txt /a.txt</c> or <c>[internal] load build context</c>.</param>
public sealed partial record BuildxStep(int Number, string Name)
{
    /// <summary>The daemon answered this step from its cache (<c>#N CACHED</c>).</summary>
    public bool Cached { get; init; }

    /// <summary>The step's duration from its <c>#N DONE 1.2s</c> line (0.1 s resolution); null if it never finished.</summary>
    public TimeSpan? Duration { get; init; }

    /// <summary>The <c>#N ERROR: ...</c> line, if the step failed.</summary>
    public string? Error { get; init; }

    /// <summary>What the step printed (a RUN step's output), without buildx's timestamps.</summary>
    public IReadOnlyList<string> Log { get; init; } = [];

    /// <summary>A Dockerfile instruction (<c>[1/2] COPY ...</c>, <c>[base 2/3] RUN ...</c>) rather than an internal load.</summary>
    public bool IsDockerfileStep => DockerfileStepName().IsMatch(Name);

    [GeneratedRegex(@"^\[(?:[^\]]* )?\d+/\d+\] ")]
    private static partial Regex DockerfileStepName();
}
