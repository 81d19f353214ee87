namespace BuildPool.Lint.Parsing;

/// <summary>One <c>NAME=value</c> of an ARG, ENV or LABEL, with quotes removed; an ARG without a default has no value.</summary>
public sealed record Assignment(string Name, string? Value);
