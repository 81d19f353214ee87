namespace BuildPool.Lint;

/// <summary>One problem at one line: what the rule saw, what it costs on every build, and how to fix it.</summary>
public sealed record Finding(string Rule, Severity Severity, int Line, string Message, string Cost, string Fix);
