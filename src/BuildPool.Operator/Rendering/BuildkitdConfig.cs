namespace BuildPool.Operator.Rendering;

/// <summary>A rendered <c>buildkitd.toml</c> and the numbers it was computed from.</summary>
/// <param name="Toml">The file text, LF line endings, identical for identical input.</param>
/// <param name="Dialect">Which generation of GC field names the file uses.</param>
/// <param name="Version">The BuildKit version read from the tag; null when the tag was not a version.</param>
/// <param name="Budget">The GC limits in bytes, for the operator's own prune decisions.</param>
public sealed record BuildkitdConfig(string Toml, BuildkitdConfigDialect Dialect, BuildkitVersion? Version, GcBudget Budget);
