namespace BuildPool.TestDoubles;

/// <summary>
/// One vertex of a <see cref="FakeDockerfile"/>, named as BuildKit's Dockerfile frontend names it
/// (<c>[2/4] RUN echo base-$V</c>, <c>[build 2/5] RUN go build</c>, <c>[internal] load build context</c>).
/// </summary>
/// <param name="Name">The vertex name; <c>$NAME</c> and <c>${NAME}</c> are replaced by the build's arguments.</param>
/// <param name="Inputs">Indexes of earlier steps this one reads (vertex field 2).</param>
/// <param name="ReadsContext">Reads the client's build context itself (<c>COPY</c>/<c>ADD</c> from the context, <c>load build context</c>).</param>
public sealed record FakeDockerfileStep(string Name, IReadOnlyList<int> Inputs, bool ReadsContext = false)
{
    /// <summary>The frontend's own steps: they run on every build and are never reported cached.</summary>
    public bool IsInternal => Name.StartsWith("[internal]", StringComparison.Ordinal);
}
