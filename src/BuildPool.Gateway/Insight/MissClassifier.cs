using System.Globalization;
using BuildPool.BuildKit.Wire;

namespace BuildPool.Gateway.Insight;

/// <summary>
/// Names the first step a build executed and why it missed the cache, from the build's Status
/// vertexes and the key's earlier builds. Pure: no clock, no I/O.
/// </summary>
/// <remarks>
/// It relies on how real buildkitd reports vertexes (BUILDKIT-FACTS, "Vertex digests are not
/// cache keys"): a vertex digest is the LLB operation's digest, stable from build to build for a
/// step that does not read the build context and new on every build for one that does (and for
/// every <c>[internal]</c> vertex). So only context-free steps can be compared by digest; a
/// context-reading step that missed changed files or lost its cache, and Status cannot tell which.
/// The checks run in a fixed order and the first that holds decides: no-cache, no history,
/// moved, context-changed, then the step compared with its last run on this builder.
/// </remarks>
public static class MissClassifier
{
    /// <summary>The first executed step and its cause; null when the build executed no Dockerfile step (everything cached).</summary>
    public static FirstMiss? Classify(in MissFacts facts)
    {
        var missed = FirstExecuted(facts.Steps);
        if (missed is null)
        {
            return null;
        }

        var name = missed.Name;
        if (facts.NoCache is { } noCache && NoCacheCovers(noCache, name))
        {
            return new(name, MissCause.NoCache, noCache.Length == 0
                ? "the client asked for --no-cache"
                : $"the client asked for --no-cache-filter {noCache}");
        }

        if (facts.Key is null)
        {
            return new(name, MissCause.Unknown, "a build without a routing key has no history to compare with");
        }

        var history = facts.History;
        if (history.Count == 0)
        {
            return new(name, MissCause.ColdBuilder, $"no earlier build of key {facts.Key} is known to this gateway (its first build, or the gateway restarted since)");
        }

        var builder = facts.Builder;
        var last = history[0];
        var builtHere = history.Any(b => b.Builder == builder);
        if (last.Builder != builder)
        {
            if (facts.WhyNotPrevious is { } why)
            {
                return new(name, MissCause.Moved, $"the key's last build ran on {last.Builder}, not used now: {why}"
                    + (builtHere ? string.Empty : $"; {builder} never built it"));
            }

            return builtHere
                ? new(name, MissCause.Moved, $"the key's last build ran on {last.Builder}; placement now sends it to {builder}")
                : new(name, MissCause.ColdBuilder, $"key {facts.Key} never built on {builder} (a new volume); its last build ran on {last.Builder}");
        }

        if (ContextReader(missed, facts.Steps) is { } reader)
        {
            var through = reader == missed ? string.Empty : $" through {reader.Name}";
            return new(name, MissCause.ContextChanged, $"it reads the build context{through}: files it uses changed since the last build on {builder}, or its cache was evicted");
        }

        if (!StepPosition.TryParse(name, out var position))
        {
            return new(name, MissCause.Unknown, "not a Dockerfile step the gateway can compare with earlier builds");
        }

        // The last build on this builder in which this step ran to its end or was cached: after
        // it, the step's result was in this builder's cache.
        foreach (var past in history.Where(b => b.Builder == builder))
        {
            var before = past.Steps.FirstOrDefault(s => StepPosition.TryParse(s.Name, out var p) && p.SameStep(position));
            if (before is null)
            {
                return new(name, MissCause.DefinitionChanged, $"{position.Prefix} is a new step: build {past.Ref} had no step {position.Index} in {StageWords(position)}");
            }

            if (before.Digest != missed.Digest)
            {
                return new(name, MissCause.DefinitionChanged, Changed(position, before.Name, name));
            }

            if (before.Cached || (before.Completed is not null && !before.Failed))
            {
                var stamp = past.EndedAt.ToString("u", CultureInfo.InvariantCulture);
                var prune = facts.Prunes.LastOrDefault(p => p.At >= past.EndedAt);
                return new(name, MissCause.Evicted, $"same definition as in build {past.Ref} on {builder} ({stamp}), whose result was cached then; "
                    + (prune is null
                        ? "its cache is gone (the daemon's garbage collection, or a prune the gateway did not see)"
                        : $"pruned at {prune.At.ToString("u", CultureInfo.InvariantCulture)} by {prune.Source}"));
            }
        }

        return new(name, MissCause.Unknown, $"no earlier build on {builder} finished this step to compare with");
    }

    /// <summary>The time spent in executed (not cached) vertexes, summed.</summary>
    public static TimeSpan ExecutedTime(IReadOnlyList<StatusVertex> steps) =>
        steps.Where(s => !s.Cached).Aggregate(TimeSpan.Zero, (sum, s) => sum + s.Duration);

    /// <summary>Whether a vertex is the frontend's own (<c>[internal] …</c>): run on every build, never cached.</summary>
    public static bool IsInternal(StatusVertex step) => step.Name.StartsWith("[internal]", StringComparison.Ordinal);

    // The executed step none of whose inputs (through any number of steps) was executed too: the
    // miss that caused the others. Report order is not Dockerfile order (real buildkitd v0.24
    // reported `[2/2] COPY` before `[1/2] WORKDIR` on a build where both ran), so ties go to the
    // lower step number, then to the order reported. A step that a cached step reads did not
    // miss, whatever its own flag says: buildkitd v0.24 reports `WORKDIR /w` on `FROM scratch`
    // done and never cached, while the `COPY` after it is cached on every repeat build.
    private static StatusVertex? FirstExecuted(IReadOnlyList<StatusVertex> steps)
    {
        var byDigest = ByDigest(steps);
        var usedByCached = Upstream(steps.Where(s => s.Cached), byDigest);
        var executed = steps
            .Where(s => !s.Cached && !IsInternal(s) && !IsContextSource(s) && !usedByCached.Contains(s.Digest))
            .ToList();
        var digests = executed.Select(s => s.Digest).ToHashSet(StringComparer.Ordinal);
        return executed
            .Select((step, order) => (step, order))
            .Where(c => !Upstream([c.step], byDigest).Where(d => d != c.step.Digest).Any(digests.Contains))
            .OrderBy(c => StepPosition.TryParse(c.step.Name, out var position) ? position.Index : int.MaxValue)
            .ThenBy(c => c.order)
            .Select(c => c.step)
            .FirstOrDefault();
    }

    // Every vertex the given steps read, directly or through others.
    private static HashSet<string> Upstream(IEnumerable<StatusVertex> from, Dictionary<string, StatusVertex> byDigest)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var queue = new Queue<StatusVertex>(from);
        while (queue.TryDequeue(out var current))
        {
            foreach (var input in current.Inputs)
            {
                if (seen.Add(input) && byDigest.TryGetValue(input, out var next))
                {
                    queue.Enqueue(next);
                }
            }
        }

        return seen;
    }

    // The build's vertexes by digest; a digest reported twice keeps its first vertex.
    private static Dictionary<string, StatusVertex> ByDigest(IReadOnlyList<StatusVertex> steps)
    {
        var byDigest = new Dictionary<string, StatusVertex>(StringComparer.Ordinal);
        foreach (var s in steps)
        {
            byDigest.TryAdd(s.Digest, s);
        }

        return byDigest;
    }

    private static bool NoCacheCovers(string noCache, string name)
    {
        if (noCache.Length == 0)
        {
            return true;
        }

        var stage = StepPosition.TryParse(name, out var position) && position.Stage.Length > 0 ? position.Stage : "stage-0";
        return noCache.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Contains(stage, StringComparer.Ordinal);
    }

    // The local sources of a build: its context and named contexts (--build-context name=dir).
    private static bool IsContextSource(StatusVertex step) =>
        step.Name.StartsWith("[internal] load build context", StringComparison.Ordinal)
        || (step.Name.StartsWith("[context ", StringComparison.Ordinal) && !StepPosition.TryParse(step.Name, out _));

    // The step itself when it reads a context source, else the nearest of its inputs that does
    // (through any number of inputs); null for a context-free step.
    private static StatusVertex? ContextReader(StatusVertex step, IReadOnlyList<StatusVertex> steps)
    {
        var byDigest = ByDigest(steps);

        var seen = new HashSet<string>(StringComparer.Ordinal) { step.Digest };
        var queue = new Queue<StatusVertex>([step]);
        while (queue.TryDequeue(out var current))
        {
            if (current.Inputs.Any(i => byDigest.TryGetValue(i, out var input) && IsContextSource(input)))
            {
                return current;
            }

            foreach (var input in current.Inputs)
            {
                if (seen.Add(input) && byDigest.TryGetValue(input, out var next))
                {
                    queue.Enqueue(next);
                }
            }
        }

        return null;
    }

    private static string Changed(StepPosition position, string before, string now)
    {
        if (before == now)
        {
            return $"{now} has a new digest with the same text (an input changed: a base image, an earlier step, or a build argument the name does not show)";
        }

        var was = StepPosition.TryParse(before, out var old) ? old.Command : before;
        return $"{position.Prefix} changed: {was} → {position.Command}";
    }

    private static string StageWords(StepPosition position) => position.Stage.Length == 0 ? "the Dockerfile" : $"stage {position.Stage}";
}
