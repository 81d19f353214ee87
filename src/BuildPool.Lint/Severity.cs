namespace BuildPool.Lint;

/// <summary>How much a finding costs: <see cref="Error"/> leaks or breaks, <see cref="Warning"/> wastes cache, <see cref="Info"/> is worth knowing.</summary>
public enum Severity
{
    Info,
    Warning,
    Error,
}
