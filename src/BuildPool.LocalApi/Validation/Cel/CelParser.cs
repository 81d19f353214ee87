using System.Globalization;
using System.Text;

namespace BuildPool.LocalApi.Validation.Cel;

/// <summary>
/// Parses the part of CEL that CRD validation rules are written in: literals, <c>self</c> and
/// <c>oldSelf</c>, field selection and indexing, <c>!</c>, unary <c>-</c>, arithmetic,
/// comparisons, <c>in</c>, <c>&amp;&amp;</c>, <c>||</c>, <c>? :</c>, list literals, the
/// <c>has()</c>, <c>all()</c>, <c>exists()</c> and <c>exists_one()</c> macros, and the functions
/// <see cref="CelEvaluator"/> knows. Anything else is a <see cref="CelException"/> naming the
/// position, so a rule the emulator cannot check is refused, never silently passed.
/// </summary>
internal sealed class CelParser
{
    private static readonly HashSet<string> Macros = ["all", "exists", "exists_one"];

    // The functions CelEvaluator implements; any other is refused when the rule is read.
    private static readonly HashSet<string> Functions = ["size", "contains", "startsWith", "endsWith", "matches"];

    private readonly List<Token> _tokens;
    private readonly string _text;
    private int _pos;

    private CelParser(string text)
    {
        _text = text;
        _tokens = Tokenize(text);
    }

    public static CelNode Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var parser = new CelParser(text);
        var node = parser.Expression();
        if (parser.Peek.Kind != TokenKind.End)
        {
            throw parser.Error($"unexpected '{parser.Peek.Text}'");
        }

        return node;
    }

    private enum TokenKind
    {
        Identifier,
        Integer,
        Double,
        String,
        Operator,
        End,
    }

    private sealed record Token(TokenKind Kind, string Text, object? Value, int Position);

    private Token Peek => _tokens[_pos];

    private Token Next() => _tokens[_pos++];

    private bool Accept(string op)
    {
        if (Peek.Kind == TokenKind.Operator && Peek.Text == op)
        {
            _pos++;
            return true;
        }

        return false;
    }

    private void Expect(string op)
    {
        if (!Accept(op))
        {
            throw Error($"expected '{op}', found '{Peek.Text}'");
        }
    }

    private CelException Error(string message) => new($"ERROR: <input>:1:{Peek.Position + 1}: {message} in '{_text}'");

    private CelNode Expression()
    {
        var condition = Or();
        if (!Accept("?"))
        {
            return condition;
        }

        var then = Or();
        Expect(":");
        return new CelNode.Conditional(condition, then, Expression());
    }

    private CelNode Or()
    {
        var left = And();
        while (Accept("||"))
        {
            left = new CelNode.Binary("||", left, And());
        }

        return left;
    }

    private CelNode And()
    {
        var left = Relation();
        while (Accept("&&"))
        {
            left = new CelNode.Binary("&&", left, Relation());
        }

        return left;
    }

    private CelNode Relation()
    {
        var left = Addition();
        while (Peek is { Kind: TokenKind.Operator, Text: "<" or "<=" or ">" or ">=" or "==" or "!=" } or { Kind: TokenKind.Identifier, Text: "in" })
        {
            var op = Next().Text;
            left = new CelNode.Binary(op, left, Addition());
        }

        return left;
    }

    private CelNode Addition()
    {
        var left = Multiplication();
        while (Peek is { Kind: TokenKind.Operator, Text: "+" or "-" })
        {
            var op = Next().Text;
            left = new CelNode.Binary(op, left, Multiplication());
        }

        return left;
    }

    private CelNode Multiplication()
    {
        var left = Unary();
        while (Peek is { Kind: TokenKind.Operator, Text: "*" or "/" or "%" })
        {
            var op = Next().Text;
            left = new CelNode.Binary(op, left, Unary());
        }

        return left;
    }

    private CelNode Unary()
    {
        if (Accept("!"))
        {
            return new CelNode.Unary("!", Unary());
        }

        return Accept("-") ? new CelNode.Unary("-", Unary()) : Member();
    }

    private CelNode Member()
    {
        var node = Primary();
        while (true)
        {
            if (Accept("."))
            {
                var name = Identifier();
                if (Accept("("))
                {
                    node = Macros.Contains(name) ? Comprehension(name, node) : new CelNode.Call(Function(name), node, Arguments());
                }
                else
                {
                    node = new CelNode.Select(node, name, Test: false);
                }
            }
            else if (Accept("["))
            {
                var index = Expression();
                Expect("]");
                node = new CelNode.Index(node, index);
            }
            else
            {
                return node;
            }
        }
    }

    private CelNode Comprehension(string macro, CelNode range)
    {
        var variable = Identifier();
        Expect(",");
        var predicate = Expression();
        Expect(")");
        return new CelNode.Comprehension(macro, range, variable, predicate);
    }

    private string Function(string name) =>
        Functions.Contains(name) ? name : throw Error($"undeclared reference to '{name}' (the local API evaluates {string.Join(", ", Functions.Order(StringComparer.Ordinal))} and the macros has, all, exists and exists_one)");

    private string Identifier()
    {
        var token = Next();
        return token.Kind == TokenKind.Identifier ? token.Text : throw Error($"expected an identifier, found '{token.Text}'");
    }

    private List<CelNode> Arguments()
    {
        var args = new List<CelNode>();
        if (Accept(")"))
        {
            return args;
        }

        do
        {
            args.Add(Expression());
        }
        while (Accept(","));
        Expect(")");
        return args;
    }

    private CelNode Primary()
    {
        var token = Peek;
        switch (token.Kind)
        {
            case TokenKind.Integer or TokenKind.Double or TokenKind.String:
                _pos++;
                return new CelNode.Literal(token.Value);
            case TokenKind.Identifier:
                _pos++;
                switch (token.Text)
                {
                    case "true":
                        return new CelNode.Literal(true);
                    case "false":
                        return new CelNode.Literal(false);
                    case "null":
                        return new CelNode.Literal(null);
                    case "has" when Accept("("):
                        var argument = Expression();
                        Expect(")");
                        return argument is CelNode.Select select
                            ? select with { Test = true }
                            : throw Error("has() takes a field selection, like has(self.field)");
                }

                return Accept("(") ? new CelNode.Call(Function(token.Text), null, Arguments()) : new CelNode.Identifier(token.Text);
            case TokenKind.Operator when token.Text == "(":
                _pos++;
                var inner = Expression();
                Expect(")");
                return inner;
            case TokenKind.Operator when token.Text == "[":
                _pos++;
                var items = new List<CelNode>();
                if (!Accept("]"))
                {
                    do
                    {
                        items.Add(Expression());
                    }
                    while (Accept(","));
                    Expect("]");
                }

                return new CelNode.List(items);
            default:
                throw Error(token.Kind == TokenKind.End ? "unexpected end of expression" : $"unexpected '{token.Text}'");
        }
    }

    private static List<Token> Tokenize(string text)
    {
        var tokens = new List<Token>();
        var i = 0;
        while (i < text.Length)
        {
            var c = text[i];
            if (char.IsWhiteSpace(c))
            {
                i++;
            }
            else if (char.IsLetter(c) || c == '_')
            {
                var start = i;
                while (i < text.Length && (char.IsLetterOrDigit(text[i]) || text[i] == '_'))
                {
                    i++;
                }

                tokens.Add(new Token(TokenKind.Identifier, text[start..i], null, start));
            }
            else if (char.IsAsciiDigit(c))
            {
                var start = i;
                while (i < text.Length && char.IsAsciiDigit(text[i]))
                {
                    i++;
                }

                if (i + 1 < text.Length && text[i] == '.' && char.IsAsciiDigit(text[i + 1]))
                {
                    i++;
                    while (i < text.Length && char.IsAsciiDigit(text[i]))
                    {
                        i++;
                    }

                    tokens.Add(new Token(TokenKind.Double, text[start..i], double.Parse(text[start..i], CultureInfo.InvariantCulture), start));
                }
                else
                {
                    tokens.Add(new Token(TokenKind.Integer, text[start..i], long.Parse(text[start..i], CultureInfo.InvariantCulture), start));
                }
            }
            else if (c is '\'' or '"')
            {
                var start = i;
                var value = new StringBuilder();
                i++;
                while (i < text.Length && text[i] != c)
                {
                    if (text[i] == '\\' && i + 1 < text.Length)
                    {
                        i++;
                        value.Append(text[i] switch { 'n' => '\n', 't' => '\t', 'r' => '\r', var other => other });
                    }
                    else
                    {
                        value.Append(text[i]);
                    }

                    i++;
                }

                if (i >= text.Length)
                {
                    throw new CelException($"ERROR: <input>:1:{start + 1}: unterminated string in '{text}'");
                }

                i++;
                tokens.Add(new Token(TokenKind.String, text[start..i], value.ToString(), start));
            }
            else
            {
                var two = i + 1 < text.Length ? text.Substring(i, 2) : "";
                var op = two is "&&" or "||" or "==" or "!=" or "<=" or ">=" ? two : c.ToString();
                if (op.Length == 1 && "()[].,?:!-+*/%<>".IndexOf(c, StringComparison.Ordinal) < 0)
                {
                    throw new CelException($"ERROR: <input>:1:{i + 1}: unexpected character '{c}' in '{text}'");
                }

                tokens.Add(new Token(TokenKind.Operator, op, null, i));
                i += op.Length;
            }
        }

        tokens.Add(new Token(TokenKind.End, "end of expression", null, text.Length));
        return tokens;
    }
}
