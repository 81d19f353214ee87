namespace BuildPool.Gateway.Isolation;

/// <summary>
/// A shell-style pattern over routing keys or client identities: <c>*</c> matches any run of
/// characters (also none, also slashes), <c>?</c> exactly one; everything else matches itself,
/// case-sensitively. <c>pr-*</c>, <c>github.com/acme/*-fork</c>.
/// </summary>
public sealed class GlobPattern
{
    public GlobPattern(string pattern)
    {
        ArgumentException.ThrowIfNullOrEmpty(pattern);
        Pattern = pattern;
    }

    public string Pattern { get; }

    public bool IsMatch(string? text)
    {
        if (text is null)
        {
            return false;
        }

        // Iterative matching with one backtrack point: linear in practice, no regex cost or risk.
        var p = Pattern.AsSpan();
        var t = text.AsSpan();
        int pi = 0, ti = 0, star = -1, mark = 0;
        while (ti < t.Length)
        {
            if (pi < p.Length && (p[pi] == '?' || p[pi] == t[ti]))
            {
                pi++;
                ti++;
            }
            else if (pi < p.Length && p[pi] == '*')
            {
                star = pi++;
                mark = ti;
            }
            else if (star >= 0)
            {
                pi = star + 1;
                ti = ++mark;
            }
            else
            {
                return false;
            }
        }

        while (pi < p.Length && p[pi] == '*')
        {
            pi++;
        }

        return pi == p.Length;
    }

    public override string ToString() => Pattern;
}
