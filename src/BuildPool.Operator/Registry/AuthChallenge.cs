using System.Text;

namespace BuildPool.Operator.Registry;

/// <summary>
/// One <c>WWW-Authenticate</c> challenge: <c>Bearer realm="…",service="…",scope="…"</c> or
/// <c>Basic realm="…"</c>. Parameter values may be quoted (with backslash escapes) or bare tokens.
/// </summary>
public sealed record AuthChallenge(string Scheme, IReadOnlyDictionary<string, string> Parameters)
{
    public bool IsBearer => Scheme.Equals("Bearer", StringComparison.OrdinalIgnoreCase);

    public bool IsBasic => Scheme.Equals("Basic", StringComparison.OrdinalIgnoreCase);

    public string? Realm => Parameters.GetValueOrDefault("realm");

    public string? Service => Parameters.GetValueOrDefault("service");

    public string? Scope => Parameters.GetValueOrDefault("scope");

    /// <summary>The challenges of a header value (a registry may offer several; the first Bearer one wins).</summary>
    public static IReadOnlyList<AuthChallenge> ParseAll(string? header)
    {
        var result = new List<AuthChallenge>();
        if (string.IsNullOrWhiteSpace(header))
        {
            return result;
        }

        var i = 0;
        while (i < header.Length)
        {
            SkipSeparators(header, ref i);
            var scheme = ReadToken(header, ref i);
            if (scheme.Length == 0)
            {
                break;
            }

            var parameters = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            while (i < header.Length)
            {
                SkipSeparators(header, ref i);
                var start = i;
                var name = ReadToken(header, ref i);
                SkipSpaces(header, ref i);
                if (name.Length == 0 || i >= header.Length || header[i] != '=')
                {
                    // Not a parameter: the next challenge's scheme begins here.
                    i = start;
                    break;
                }

                i++;
                SkipSpaces(header, ref i);
                parameters[name] = i < header.Length && header[i] == '"' ? ReadQuoted(header, ref i) : ReadToken(header, ref i);
            }

            result.Add(new AuthChallenge(scheme, parameters));
        }

        return result;
    }

    public static AuthChallenge? Parse(string? header)
    {
        var all = ParseAll(header);
        return all.FirstOrDefault(c => c.IsBearer) ?? all.FirstOrDefault();
    }

    private static void SkipSpaces(string s, ref int i)
    {
        while (i < s.Length && s[i] is ' ' or '\t')
        {
            i++;
        }
    }

    private static void SkipSeparators(string s, ref int i)
    {
        while (i < s.Length && s[i] is ' ' or '\t' or ',')
        {
            i++;
        }
    }

    private static string ReadToken(string s, ref int i)
    {
        var start = i;
        while (i < s.Length && s[i] is not (' ' or '\t' or ',' or '=' or '"'))
        {
            i++;
        }

        return s[start..i];
    }

    private static string ReadQuoted(string s, ref int i)
    {
        var value = new StringBuilder();
        i++;
        while (i < s.Length && s[i] != '"')
        {
            if (s[i] == '\\' && i + 1 < s.Length)
            {
                i++;
            }

            value.Append(s[i]);
            i++;
        }

        i++;
        return value.ToString();
    }
}
