namespace BuildPool.Lint.Parsing;

/// <summary>A flag written before an instruction's arguments: <c>--from=build</c>, <c>--link</c> (no value).</summary>
public sealed record InstructionFlag(string Name, string? Value);
