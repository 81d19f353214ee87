namespace BuildPool.Gateway.Insight;

/// <summary>The first step a build executed instead of taking from cache, and why.</summary>
/// <param name="Step">The vertex name (<c>[3/4] COPY data.txt /d</c>).</param>
/// <param name="Cause">The cause.</param>
/// <param name="Detail">What the gateway knows behind the cause, in words (the builder, the changed command, the prune).</param>
public sealed record FirstMiss(string Step, MissCause Cause, string Detail)
{
    /// <summary>The cause as logs, metrics and the JSON write it: <c>cold-builder</c>, <c>moved</c>, <c>definition-changed</c>, ….</summary>
    public string CauseLabel => Label(Cause);

    /// <summary>The kebab-case label of <paramref name="cause"/>.</summary>
    public static string Label(MissCause cause) => cause switch
    {
        MissCause.ColdBuilder => "cold-builder",
        MissCause.Moved => "moved",
        MissCause.DefinitionChanged => "definition-changed",
        MissCause.ContextChanged => "context-changed",
        MissCause.Evicted => "evicted",
        MissCause.NoCache => "no-cache",
        _ => "unknown",
    };

    /// <summary>The log text: <c>[3/4] COPY data.txt /d (context-changed: …)</c>.</summary>
    public override string ToString() => $"{Step} ({CauseLabel}: {Detail})";
}
