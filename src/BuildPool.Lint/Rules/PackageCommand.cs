namespace BuildPool.Lint.Rules;

/// <summary>
/// One package manager call found in a RUN: whether it resolves dependencies (downloads what the
/// project's manifests name), whether it reads or fills the manager's download cache, and whether
/// it only refreshes a package index (<c>apt-get update</c>).
/// </summary>
internal sealed record PackageCommand(PackageManager Manager, string Text, bool ResolvesDependencies, bool UsesCache, bool IndexUpdate);
