using System.Diagnostics.CodeAnalysis;
using System.Text.RegularExpressions;

namespace BuildPool.Operator.Registry;

/// <summary>
/// Where cache tags live, parsed from a target's ref template (<c>host/cache/app:{key}</c>,
/// <c>host/cache/{key}</c>) or a plain repository (<c>host:5000/cache/app</c>, every tag).
/// Retention only ever touches tags this matches, so other tags in a shared repository survive.
/// </summary>
public sealed partial class CacheRef
{
    public const string KeyPlaceholder = "{key}";

    private readonly Regex? _repository;
    private readonly Regex? _tag;

    private CacheRef(string host, string repositoryTemplate, string? tagTemplate)
    {
        Host = host;
        RepositoryTemplate = repositoryTemplate;
        TagTemplate = tagTemplate;
        var at = repositoryTemplate.IndexOf(KeyPlaceholder, StringComparison.Ordinal);
        if (at >= 0)
        {
            RepositoryPrefix = repositoryTemplate[..at];
            _repository = Pattern(repositoryTemplate, "[a-z0-9._/-]+");
        }

        _tag = tagTemplate is null ? null : Pattern(tagTemplate, "[A-Za-z0-9_.-]+");
    }

    /// <summary>Registry host and optional port, as in the ref.</summary>
    public string Host { get; }

    /// <summary>Repository path, possibly with {key}.</summary>
    public string RepositoryTemplate { get; }

    /// <summary>Tag, possibly with {key}; null means every tag of the repository.</summary>
    public string? TagTemplate { get; }

    /// <summary>True when the key names repositories (one per key): listing them needs the catalog.</summary>
    public bool KeyInRepository => _repository is not null;

    /// <summary>The fixed part of the repository before {key}, like "cache/"; set only when <see cref="KeyInRepository"/>.</summary>
    public string? RepositoryPrefix { get; }

    public bool MatchesRepository(string repository) =>
        _repository is null ? repository == RepositoryTemplate : _repository.IsMatch(repository);

    public bool MatchesTag(string tag) => _tag is null || _tag.IsMatch(tag);

    /// <summary>
    /// Parses <paramref name="text"/>. A template must contain {key} (as targets do); a plain
    /// reference must not carry a tag or digest, since it stands for all tags of its repository.
    /// </summary>
    public static bool TryParse(string? text, [NotNullWhen(true)] out CacheRef? result, [NotNullWhen(false)] out string? error)
    {
        result = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            error = "is empty";
            return false;
        }

        if (text.Contains('@', StringComparison.Ordinal))
        {
            error = $"\"{text}\" has a digest; a cache ref names a repository and tag";
            return false;
        }

        var slash = text.IndexOf('/', StringComparison.Ordinal);
        var host = slash < 0 ? "" : text[..slash];
        if (slash < 0 || !LooksLikeHost(host))
        {
            error = $"\"{text}\" must start with the registry host (and port), like registry.example.test:5000/cache/{KeyPlaceholder}";
            return false;
        }

        if (host.Contains(KeyPlaceholder, StringComparison.Ordinal))
        {
            error = $"\"{text}\": {KeyPlaceholder} may be in the repository or the tag, not in the registry host";
            return false;
        }

        var path = text[(slash + 1)..];
        var lastSlash = path.LastIndexOf('/');
        var colon = path.IndexOf(':', lastSlash + 1);
        var repository = colon < 0 ? path : path[..colon];
        var tag = colon < 0 ? null : path[(colon + 1)..];
        var templated = text.Contains(KeyPlaceholder, StringComparison.Ordinal);

        if (!RepositoryName().IsMatch(repository.Replace(KeyPlaceholder, "k", StringComparison.Ordinal)))
        {
            error = $"\"{text}\": repository \"{repository}\" must be lowercase path components of letters, digits and . _ - separated by /";
            return false;
        }

        if (tag is not null && !TagName().IsMatch(tag.Replace(KeyPlaceholder, "k", StringComparison.Ordinal)))
        {
            error = $"\"{text}\": tag \"{tag}\" may hold only letters, digits and . _ - (at most 128)";
            return false;
        }

        if (!templated && tag is not null)
        {
            error = $"\"{text}\": give the repository without a tag (every tag is a candidate) or a template with {KeyPlaceholder}";
            return false;
        }

        // BuildKit writes a ref without a tag to :latest.
        result = new CacheRef(host, repository, templated ? tag ?? "latest" : null);
        error = null;
        return true;
    }

    /// <summary>The ref as buildx takes it for one key.</summary>
    public string For(string key) =>
        $"{Host}/{RepositoryTemplate.Replace(KeyPlaceholder, key, StringComparison.Ordinal)}{(TagTemplate is null ? "" : ":" + TagTemplate.Replace(KeyPlaceholder, key, StringComparison.Ordinal))}";

    public override string ToString() => $"{Host}/{RepositoryTemplate}{(TagTemplate is null ? "" : ":" + TagTemplate)}";

    private static bool LooksLikeHost(string host) =>
        host.Length > 0 && (host.Contains('.', StringComparison.Ordinal) || host.Contains(':', StringComparison.Ordinal) || host == "localhost" || host.StartsWith('['));

    private static Regex Pattern(string template, string key) =>
        new("^" + string.Join(key, template.Split(KeyPlaceholder).Select(Regex.Escape)) + "$", RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));

    [GeneratedRegex(@"^[a-z0-9]+([._-]+[a-z0-9]+)*(/[a-z0-9]+([._-]+[a-z0-9]+)*)*$", RegexOptions.CultureInvariant)]
    private static partial Regex RepositoryName();

    [GeneratedRegex(@"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$", RegexOptions.CultureInvariant)]
    private static partial Regex TagName();
}
