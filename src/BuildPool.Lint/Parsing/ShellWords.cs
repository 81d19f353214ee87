using System.Text;

namespace BuildPool.Lint.Parsing;

/// <summary>
/// Splits text into words the way a shell would for our purposes: whitespace separates, quotes
/// group and are removed, the escape character keeps the next character. Operators
/// (<c>&amp;&amp;</c>, <c>||</c>, <c>;</c>, <c>|</c>, <c>&amp;</c>, newlines, parentheses) come back as
/// their own tokens when asked for.
/// </summary>
internal static class ShellWords
{
    public const string CommandBreak = "\n";

    public static IReadOnlyList<string> Split(string text, char escape) => Tokens(text, escape, operators: false);

    /// <summary>Words with every command separator turned into <see cref="CommandBreak"/>.</summary>
    public static IReadOnlyList<string> Commands(string text, char escape) => Tokens(text, escape, operators: true);

    private static List<string> Tokens(string text, char escape, bool operators)
    {
        var tokens = new List<string>();
        var word = new StringBuilder();
        var inWord = false;
        char quote = '\0';

        void Flush()
        {
            if (inWord)
            {
                tokens.Add(word.ToString());
                word.Clear();
                inWord = false;
            }
        }

        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (quote != '\0')
            {
                if (c == quote)
                {
                    quote = '\0';
                }
                else if (quote == '"' && c == escape && i + 1 < text.Length && text[i + 1] is '"' or '\\' or '$')
                {
                    word.Append(text[++i]);
                }
                else
                {
                    word.Append(c);
                }

                continue;
            }

            if (c == escape && i + 1 < text.Length)
            {
                // An escaped newline is a continuation inside a here-document script.
                if (text[i + 1] != '\n')
                {
                    word.Append(text[i + 1]);
                    inWord = true;
                }

                i++;
                continue;
            }

            if (c is '"' or '\'')
            {
                quote = c;
                inWord = true;
                continue;
            }

            if (operators && c == '#' && !inWord)
            {
                while (i + 1 < text.Length && text[i + 1] != '\n')
                {
                    i++;
                }

                continue;
            }

            if (operators && c is ';' or '|' or '&' or '\n' or '(' or ')' or '`')
            {
                Flush();
                if (tokens.Count == 0 || tokens[^1] != CommandBreak)
                {
                    tokens.Add(CommandBreak);
                }

                continue;
            }

            if (char.IsWhiteSpace(c))
            {
                Flush();
                continue;
            }

            word.Append(c);
            inWord = true;
        }

        Flush();
        return tokens;
    }
}
