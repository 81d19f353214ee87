namespace BuildPool.Lint.Parsing;

/// <summary>A build stage: its FROM, the image or earlier stage it starts from, and the instructions after the FROM.</summary>
public sealed record Stage(int Index, string? Name, string BaseImage, Instruction From, IReadOnlyList<Instruction> Instructions);
