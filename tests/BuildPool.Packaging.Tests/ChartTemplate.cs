using System.Text;
using System.Text.RegularExpressions;

namespace BuildPool.Packaging.Tests;

/// <summary>
/// A Helm template read the way Go's text/template tokenizes it, without evaluating it: the
/// actions (<c>{{ … }}</c>), whether the delimiters and the blocks are balanced, which
/// templates it defines and includes, and which <c>.Values</c> paths it reads.
/// </summary>
/// <remarks>
/// What <c>.</c> means is followed through the blocks as far as text allows:
/// <list type="bullet">
/// <item><c>define</c> bodies are read as if called with the root context (this chart always
/// passes <c>.</c> to <c>include</c>).</item>
/// <item><c>with .Values.a.b</c> makes <c>.x</c> inside it mean <c>.Values.a.b.x</c>;
/// <c>with</c> over anything else, and every <c>range</c>, make <c>.</c> unknown, and fields of
/// an unknown <c>.</c> are not checked.</item>
/// <item><c>.Values</c> (without <c>$</c>) where <c>.</c> is not the root is reported: it fails at
/// render time.</item>
/// </list>
/// Not followed: variables (<c>$v := .Values.a</c> then <c>$v.b</c> reads <c>a.b</c> unseen),
/// <c>index .Values "a" "b"</c>, <c>get</c>/<c>pluck</c>/<c>dig</c> on values, <c>tpl</c> strings,
/// and <c>include</c> called with a context other than the root.
/// </remarks>
public sealed partial class ChartTemplate
{
    private static readonly HashSet<string> RootFields = ["Values", "Release", "Chart", "Capabilities", "Template", "Files", "Subcharts"];

    private readonly List<string> _errors = [];
    private readonly List<Action> _actions = [];
    private readonly List<ValueReference> _values = [];
    private readonly HashSet<string> _defines = new(StringComparer.Ordinal);
    private readonly List<(string Name, int Line)> _includes = [];

    private ChartTemplate(string name) => Name = name;

    /// <summary>The file name, for messages.</summary>
    public string Name { get; }

    /// <summary>One <c>{{ … }}</c>: its text without the delimiters and trim markers.</summary>
    public sealed record Action(int Line, string Text);

    /// <summary>A values path the template reads, like <c>image.tag</c>.</summary>
    public sealed record ValueReference(string Path, int Line);

    public IReadOnlyList<Action> Actions => _actions;

    /// <summary>Unbalanced delimiters or blocks, and <c>.Values</c> read where <c>.</c> is not the root.</summary>
    public IReadOnlyList<string> Errors => _errors;

    public IReadOnlyList<ValueReference> ValueReferences => _values;

    public IReadOnlySet<string> Defines => _defines;

    public IReadOnlyList<(string Name, int Line)> Includes => _includes;

    public static ChartTemplate Load(string path) => Parse(System.IO.Path.GetFileName(path), File.ReadAllText(path));

    public static ChartTemplate Parse(string name, string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var template = new ChartTemplate(name);
        template.Tokenize(text);
        template.Walk();
        return template;
    }

    private void Tokenize(string text)
    {
        var pos = 0;
        while (pos < text.Length)
        {
            var open = text.IndexOf("{{", pos, StringComparison.Ordinal);
            var stray = text.IndexOf("}}", pos, StringComparison.Ordinal);
            if (stray >= 0 && (open < 0 || stray < open))
            {
                _errors.Add($"{Name}:{LineOf(text, stray)}: '}}}}' without an opening '{{{{'");
                pos = stray + 2;
                continue;
            }

            if (open < 0)
            {
                return;
            }

            var close = FindClose(text, open + 2, out var nested);
            if (nested >= 0)
            {
                _errors.Add($"{Name}:{LineOf(text, open)}: '{{{{' opened again at line {LineOf(text, nested)} before it was closed");
                pos = nested;
                continue;
            }

            if (close < 0)
            {
                _errors.Add($"{Name}:{LineOf(text, open)}: '{{{{' is never closed");
                return;
            }

            var inner = text[(open + 2)..close];
            if (inner.Length > 1 && inner[0] == '-' && char.IsWhiteSpace(inner[1]))
            {
                inner = inner[1..];
            }

            if (inner.Length > 1 && inner[^1] == '-' && char.IsWhiteSpace(inner[^2]))
            {
                inner = inner[..^1];
            }

            inner = inner.Trim();
            if (!inner.StartsWith("/*", StringComparison.Ordinal))
            {
                _actions.Add(new Action(LineOf(text, open), inner));
            }

            pos = close + 2;
        }
    }

    // The "}}" that ends the action starting at `from`, skipping string literals and comments;
    // `nested` is where a second "{{" starts when one comes first.
    private static int FindClose(string text, int from, out int nested)
    {
        nested = -1;
        var i = from;
        while (i < text.Length && (text[i] == '-' || text[i] == ' '))
        {
            i++;
        }

        if (string.CompareOrdinal(text, i, "/*", 0, 2) == 0)
        {
            var endComment = text.IndexOf("*/", i + 2, StringComparison.Ordinal);
            return endComment < 0 ? -1 : text.IndexOf("}}", endComment + 2, StringComparison.Ordinal);
        }

        for (; i < text.Length - 1; i++)
        {
            switch (text[i])
            {
                case '"':
                    i = SkipQuoted(text, i, '"');
                    break;
                case '`':
                    i = text.IndexOf('`', i + 1) is var end and >= 0 ? end : text.Length;
                    break;
                case '{' when text[i + 1] == '{':
                    nested = i;
                    return -1;
                case '}' when text[i + 1] == '}':
                    return i;
                default:
                    break;
            }
        }

        return -1;
    }

    private static int SkipQuoted(string text, int start, char quote)
    {
        for (var i = start + 1; i < text.Length; i++)
        {
            if (text[i] == '\\')
            {
                i++;
            }
            else if (text[i] == quote)
            {
                return i;
            }
            else if (text[i] == '\n')
            {
                return i;
            }
        }

        return text.Length;
    }

    private abstract record Dot
    {
        public sealed record Root : Dot;

        public sealed record InValues(string Path) : Dot;

        public sealed record Unknown : Dot;
    }

    private sealed record Frame(string Keyword, int Line, Dot Outer)
    {
        public required Dot Inner { get; set; }
    }

    private void Walk()
    {
        var stack = new Stack<Frame>();
        Dot Current() => stack.Count == 0 ? new Dot.Root() : stack.Peek().Inner;
        foreach (var action in _actions)
        {
            var (keyword, rest) = SplitKeyword(action.Text);
            switch (keyword)
            {
                case "if" or "with" or "range" or "define" or "block":
                    {
                        var outer = Current();
                        if (keyword is not "define")
                        {
                            ReadReferences(action, rest, outer);
                        }

                        stack.Push(new Frame(keyword, action.Line, outer) { Inner = InnerDot(keyword, rest, outer) });
                        if (keyword is "define" or "block" && Quoted().Match(rest) is { Success: true } name)
                        {
                            _defines.Add(name.Groups[1].Value);
                        }

                        break;
                    }

                case "else":
                    if (stack.Count == 0 || stack.Peek().Keyword is not ("if" or "with" or "range"))
                    {
                        _errors.Add($"{Name}:{action.Line}: 'else' outside an if, with or range");
                        break;
                    }

                    var frame = stack.Peek();
                    var (elseKeyword, elseRest) = SplitKeyword(rest);
                    ReadReferences(action, elseKeyword is "if" or "with" ? elseRest : rest, frame.Outer);
                    frame.Inner = elseKeyword == "with" ? InnerDot("with", elseRest, frame.Outer) : frame.Outer;
                    break;
                case "end":
                    if (stack.Count == 0)
                    {
                        _errors.Add($"{Name}:{action.Line}: 'end' without an open if, with, range or define");
                    }
                    else
                    {
                        stack.Pop();
                    }

                    break;
                default:
                    ReadReferences(action, action.Text, Current());
                    break;
            }
        }

        foreach (var open in stack)
        {
            _errors.Add($"{Name}:{open.Line}: '{open.Keyword}' is never closed by 'end'");
        }
    }

    private static (string Keyword, string Remainder) SplitKeyword(string text)
    {
        var match = Keyword().Match(text);
        return match.Success ? (match.Groups[1].Value, text[match.Length..].Trim()) : ("", text);
    }

    private static Dot InnerDot(string keyword, string pipeline, Dot outer)
    {
        switch (keyword)
        {
            case "define" or "block":
                return new Dot.Root();
            case "range":
                return new Dot.Unknown();
            case "with":
                pipeline = pipeline.Trim();
                if (pipeline == ".")
                {
                    return outer;
                }

                if (SingleField().Match(pipeline) is { Success: true } field)
                {
                    var segments = field.Groups["path"].Value.Split('.');
                    var fromRoot = field.Groups["dollar"].Success || outer is Dot.Root;
                    if (fromRoot && segments[0] == "Values" && segments.Length > 1)
                    {
                        return new Dot.InValues(string.Join('.', segments[1..]));
                    }

                    if (!field.Groups["dollar"].Success && outer is Dot.InValues values)
                    {
                        return new Dot.InValues($"{values.Path}.{string.Join('.', segments)}");
                    }
                }

                return new Dot.Unknown();
            default:
                return outer;
        }
    }

    private void ReadReferences(Action action, string expression, Dot dot)
    {
        foreach (Match include in Include().Matches(expression))
        {
            _includes.Add((include.Groups[1].Value, action.Line));
        }

        foreach (Match field in Field().Matches(WithoutStrings(expression)))
        {
            var segments = field.Groups["path"].Value.Split('.');
            var fromRoot = field.Groups["dollar"].Success;
            if (fromRoot || dot is Dot.Root)
            {
                if (segments[0] == "Values")
                {
                    if (segments.Length > 1)
                    {
                        _values.Add(new ValueReference(string.Join('.', segments[1..]), action.Line));
                    }
                }
                else if (!RootFields.Contains(segments[0]))
                {
                    _errors.Add($"{Name}:{action.Line}: '.{segments[0]}' is not a field of the root context");
                }

                continue;
            }

            if (RootFields.Contains(segments[0]))
            {
                _errors.Add($"{Name}:{action.Line}: '.{field.Groups["path"].Value}' inside with/range, where '.' is not the root: write '$.{field.Groups["path"].Value}'");
                continue;
            }

            if (dot is Dot.InValues values)
            {
                _values.Add(new ValueReference($"{values.Path}.{string.Join('.', segments)}", action.Line));
            }
        }
    }

    private static string WithoutStrings(string expression)
    {
        var text = new StringBuilder(expression.Length);
        for (var i = 0; i < expression.Length; i++)
        {
            switch (expression[i])
            {
                case '"' or '\'':
                    i = SkipQuoted(expression, i, expression[i]);
                    text.Append("\"\"");
                    break;
                case '`':
                    i = expression.IndexOf('`', i + 1) is var end and >= 0 ? end : expression.Length;
                    text.Append("\"\"");
                    break;
                default:
                    text.Append(expression[i]);
                    break;
            }
        }

        return text.ToString();
    }

    private static int LineOf(string text, int index)
    {
        var line = 1;
        for (var i = 0; i < index; i++)
        {
            if (text[i] == '\n')
            {
                line++;
            }
        }

        return line;
    }

    [GeneratedRegex(@"^(if|else|end|with|range|define|block|template|break|continue)\b")]
    private static partial Regex Keyword();

    [GeneratedRegex(@"^""([^""]*)""")]
    private static partial Regex Quoted();

    [GeneratedRegex(@"^(?<dollar>\$)?\.(?<path>[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)$")]
    private static partial Regex SingleField();

    // A field chain on '.' or '$': not one on a variable ($v.x), a call result ((…).x) or a number (1.5).
    [GeneratedRegex(@"(?<![\w\)\]\$])(?<dollar>\$)?\.(?<path>[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)")]
    private static partial Regex Field();

    [GeneratedRegex(@"\b(?:include|template)\s+""([^""]+)""")]
    private static partial Regex Include();
}
