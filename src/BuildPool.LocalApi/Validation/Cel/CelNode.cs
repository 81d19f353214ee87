namespace BuildPool.LocalApi.Validation.Cel;

/// <summary>A parsed CEL expression.</summary>
internal abstract record CelNode
{
    public sealed record Literal(object? Value) : CelNode;

    public sealed record Identifier(string Name) : CelNode;

    /// <summary><c>operand.field</c>; with <paramref name="Test"/>, <c>has(operand.field)</c>.</summary>
    public sealed record Select(CelNode Operand, string Field, bool Test) : CelNode;

    public sealed record Index(CelNode Operand, CelNode Key) : CelNode;

    /// <summary><c>name(args)</c>, or <c>target.name(args)</c> when <paramref name="Target"/> is set.</summary>
    public sealed record Call(string Name, CelNode? Target, IReadOnlyList<CelNode> Arguments) : CelNode;

    public sealed record List(IReadOnlyList<CelNode> Items) : CelNode;

    public sealed record Unary(string Operator, CelNode Operand) : CelNode;

    public sealed record Binary(string Operator, CelNode Left, CelNode Right) : CelNode;

    public sealed record Conditional(CelNode Condition, CelNode Then, CelNode Else) : CelNode;

    /// <summary><c>range.macro(variable, predicate)</c> for <c>all</c>, <c>exists</c> and <c>exists_one</c>.</summary>
    public sealed record Comprehension(string Macro, CelNode Range, string Variable, CelNode Predicate) : CelNode;

    /// <summary>Whether the expression reads <c>oldSelf</c>: such a transition rule is checked on updates only.</summary>
    public bool ReadsOldSelf() => this switch
    {
        Identifier i => i.Name == "oldSelf",
        Select s => s.Operand.ReadsOldSelf(),
        Index x => x.Operand.ReadsOldSelf() || x.Key.ReadsOldSelf(),
        Call c => (c.Target?.ReadsOldSelf() ?? false) || c.Arguments.Any(a => a.ReadsOldSelf()),
        List l => l.Items.Any(i => i.ReadsOldSelf()),
        Unary u => u.Operand.ReadsOldSelf(),
        Binary b => b.Left.ReadsOldSelf() || b.Right.ReadsOldSelf(),
        Conditional c => c.Condition.ReadsOldSelf() || c.Then.ReadsOldSelf() || c.Else.ReadsOldSelf(),
        Comprehension c => c.Range.ReadsOldSelf() || c.Predicate.ReadsOldSelf(),
        _ => false,
    };
}
