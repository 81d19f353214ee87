using BuildPool.Lint.Parsing;
using BuildPool.Lint.Rules;

namespace BuildPool.Lint;

/// <summary>Runs every cache rule over a Dockerfile; findings come back ordered by line.</summary>
public static class DockerfileLinter
{
    private static readonly ILintRule[] Rules =
    [
        new SourcesBeforeDependencies(), new PackageCacheMount(), new AptCacheSharing(), new SecretInArgOrEnv(),
        new SecretFileCopied(), new EarlyVolatileArg(), new AptUpdateAlone(), new RemoteAdd(),
        new CopyAllWithoutDockerignore(), new UnpinnedBaseImage(),
    ];

    /// <param name="contextHasDockerignore">Whether the build context has a .dockerignore; null when it is not known.</param>
    public static IReadOnlyList<Finding> Lint(Dockerfile dockerfile, bool? contextHasDockerignore)
    {
        var input = new LintInput(dockerfile, contextHasDockerignore);
        return Rules.SelectMany(r => r.Check(input)).OrderBy(f => f.Line).ThenBy(f => f.Rule, StringComparer.Ordinal).ToList();
    }

    /// <summary>
    /// Lints a Dockerfile on disk whose build context is <paramref name="context"/> (by default the
    /// Dockerfile's directory). BuildKit reads <c>&lt;Dockerfile&gt;.dockerignore</c> next to the
    /// Dockerfile before the context's <c>.dockerignore</c>.
    /// </summary>
    /// <exception cref="DockerfileParseException">The file is not a Dockerfile BuildKit would accept.</exception>
    public static async Task<IReadOnlyList<Finding>> LintFileAsync(string path, string? context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(path);
        var text = await File.ReadAllTextAsync(path, cancellationToken);
        var contextDirectory = context ?? Path.GetDirectoryName(Path.GetFullPath(path))!;
        var ignored = File.Exists(path + ".dockerignore") || File.Exists(Path.Combine(contextDirectory, ".dockerignore"));
        return Lint(DockerfileParser.Parse(text), ignored);
    }
}
