namespace BuildPool.Gateway.Isolation;

/// <summary>Untrusted identities from <c>--untrusted-identity</c> glob patterns.</summary>
public sealed class StaticUntrustedIdentities : IUntrustedIdentities
{
    private readonly GlobPattern[] _patterns;

    public StaticUntrustedIdentities(IEnumerable<string> patterns)
    {
        ArgumentNullException.ThrowIfNull(patterns);
        _patterns = [.. patterns.Where(p => !string.IsNullOrWhiteSpace(p)).Select(p => new GlobPattern(p.Trim()))];
    }

    public IReadOnlyList<GlobPattern> Patterns => _patterns;

    public bool IsUntrusted(string identity) => Array.Exists(_patterns, p => p.IsMatch(identity));

    public bool AnyUntrusted => _patterns.Length > 0;
}
