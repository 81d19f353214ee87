using BuildPool.Benchmarks.Report;
using BuildPool.Gateway.Routing;

namespace BuildPool.Benchmarks.Scenarios;

/// <summary>
/// Cache locality: a seeded Zipf(1.1) stream of project builds over builders with LRU layer
/// caches, routed by BuildPool's placement and by the alternatives a plain load balancer would
/// use, with a scale-out and a builder loss in the middle of the stream.
/// </summary>
internal static class CacheLocalityScenario
{
    private const int Builders = 8;
    private const int Projects = 2_000;
    private const double ZipfExponent = 1.1;
    private const int MinLayers = 5;
    private const int MaxLayers = 25;
    // A source change rebuilds the top layers (COPY . and what follows): misses for everyone.
    private const int ChangingLayers = 2;
    private const double ChangeProbability = 0.5;
    private const int Running = 16;
    private const int Seed = 20_240_611;

    public static string Run(bool quick)
    {
        var builds = quick ? 40_000 : 200_000;
        var stream = BuildStream.Create(builds);
        const int capacity = 1_000;
        var table = new MarkdownTable("event at mid-stream", "routing", "hit ratio", "vs random", "hit ratio, 10% of builds after the event", "builds spilled by the bound", "goal (≥ 2× random)");
        var ceiling = 0.0;
        foreach (var change in new[] { Change.ScaleOut, Change.Loss })
        {
            var results = Strategies().Select(s => (Strategy: s, Result: Simulate(stream, s, capacity, Running, change))).ToList();
            var random = results.Single(r => r.Strategy.Name == RandomName).Result.HitRatio;
            foreach (var (strategy, result) in results)
            {
                var ratio = result.HitRatio / random;
                ceiling = strategy.IsOracle ? ratio : ceiling;
                table.Add(change == Change.ScaleOut ? "scale-out 8→9" : "builder loss 8→7", strategy.Name,
                    Format.Percent(result.HitRatio, 1), Format.Ratio(ratio), Format.Percent(result.AfterEvent, 1),
                    strategy is PlacementStrategy ? Format.Percent(result.Spilled, 1) : "—",
                    strategy is PlacementStrategy ? Format.Goal(ratio >= 2, "≥ 2.00× random") : string.Empty);
            }
        }

        // How the answer depends on the two parameters the issue leaves open: cache size and how
        // many builds run at once (the bound's capacity is ⌈1.25 × (running + 1) / 8⌉).
        var sensitivity = new MarkdownTable("cache per builder", "builds running", "BuildPool", "spilled", "ring, no load bound", "random", "BuildPool vs random", "no bound vs random");
        foreach (var size in new[] { 500, 2_000 })
        {
            foreach (var running in new[] { 4, 16, 64 })
            {
                var pool = Simulate(stream, new PlacementStrategy(), size, running, Change.ScaleOut);
                var ring = Simulate(stream, new RingStrategy(), size, running, Change.ScaleOut);
                var random = Simulate(stream, new RandomStrategy(), size, running, Change.ScaleOut);
                sensitivity.Add($"{size:N0} layers", running, Format.Percent(pool.HitRatio, 1), Format.Percent(pool.Spilled, 1),
                    Format.Percent(ring.HitRatio, 1), Format.Percent(random.HitRatio, 1),
                    Format.Ratio(pool.HitRatio / random.HitRatio), Format.Ratio(ring.HitRatio / random.HitRatio));
            }
        }

        var ceilingNote = ceiling < 2
            ? $"With this stream even the oracle reaches only {Format.Ratio(ceiling)} random: Zipf(1.1) puts so many builds on a few projects that random placement keeps them warm on every builder, so \"≥ 2× random\" is out of reach for any router here; compare with the oracle instead."
            : $"The oracle reaches {Format.Ratio(ceiling)} random.";
        return $"""
            ## Cache locality simulation

            {Builders} builders, each with an LRU cache of {capacity:N0} layers; {builds:N0} builds drawn
            from {Projects:N0} projects with Zipf({ZipfExponent}) popularity (seed {Seed}). A project has
            {MinLayers}–{MaxLayers} layers of its own; each build touches all of them, and with probability
            {ChangeProbability} a source change replaces its top {ChangingLayers} layers (misses for every
            router). {Running} builds run at once, each ending when the {Running}th build after it starts (bounded loads
            see them). Halfway through, a ninth builder joins with an empty cache (scale-out) or `pool-3`
            is lost with its cache (loss). Hit ratio = cached layers / layers touched. The oracle is one
            infinite cache: the ceiling left by first builds and source changes.

            {table}
            {ceilingNote}

            Sensitivity (scale-out stream, same seed):

            {sensitivity}
            """;
    }

    private const string BuildPoolName = "BuildPool (ring + bounded loads, `Placement`)";
    private const string RandomName = "random";

    private enum Change
    {
        ScaleOut,
        Loss,
    }

    private static IEnumerable<Strategy> Strategies() =>
    [
        new PlacementStrategy(),
        new RingStrategy(),
        new RandomStrategy(),
        new RoundRobinStrategy(),
        new OracleStrategy(),
    ];

    private static (double HitRatio, double AfterEvent, double Spilled) Simulate(BuildStream stream, Strategy strategy, int capacity, int runningBuilds, Change change)
    {
        var builders = Enumerable.Range(0, Builders).Select(i => $"pool-{i}").ToList();
        var caches = builders.ToDictionary(b => b, _ => new LruCache(capacity), StringComparer.Ordinal);
        var oracle = new HashSet<long>();
        strategy.SetBuilders(builders);
        var running = new Queue<IDisposable?>();
        var middle = stream.Count / 2;
        var windowEnd = middle + (stream.Count / 10);
        long hits = 0, touches = 0, windowHits = 0, windowTouches = 0;
        for (var b = 0; b < stream.Count; b++)
        {
            if (b == middle)
            {
                if (change == Change.ScaleOut)
                {
                    builders.Add($"pool-{Builders}");
                    caches[$"pool-{Builders}"] = new LruCache(capacity);
                }
                else
                {
                    builders.Remove("pool-3");
                    caches.Remove("pool-3");
                }

                strategy.SetBuilders(builders);
            }

            var project = stream.Projects[b];
            var target = strategy.Choose(stream.Keys[project], b);
            running.Enqueue(strategy.Track(target));
            if (running.Count > runningBuilds)
            {
                running.Dequeue()?.Dispose();
            }

            var layers = stream.LayerCounts[project];
            var cache = strategy.IsOracle ? null : caches[target];
            for (var i = 0; i < layers; i++)
            {
                var version = i >= layers - ChangingLayers ? stream.Versions[b] : 0;
                var layer = ((long)project << 40) | ((long)i << 32) | (uint)version;
                var hit = cache?.Touch(layer) ?? !oracle.Add(layer);
                touches++;
                hits += hit ? 1 : 0;
                if (b >= middle && b < windowEnd)
                {
                    windowTouches++;
                    windowHits += hit ? 1 : 0;
                }
            }
        }

        while (running.Count > 0)
        {
            running.Dequeue()?.Dispose();
        }

        return (hits / (double)touches, windowHits / (double)windowTouches, strategy.Spilled / (double)stream.Count);
    }

    // The same builds for every router: which project, and its source version at that build.
    private sealed class BuildStream
    {
        private BuildStream(int count) => (Count, Projects, Versions) = (count, new int[count], new int[count]);

        public int Count { get; }

        public int[] Projects { get; }

        public int[] Versions { get; }

        public string[] Keys { get; } = [.. Enumerable.Range(0, CacheLocalityScenario.Projects).Select(p => $"github.com/org/project-{p}")];

        public int[] LayerCounts { get; private init; } = [];

        public static BuildStream Create(int count)
        {
            var random = new Random(Seed);
            var stream = new BuildStream(count)
            {
                LayerCounts = [.. Enumerable.Range(0, CacheLocalityScenario.Projects).Select(_ => random.Next(MinLayers, MaxLayers + 1))],
            };
            var zipf = new ZipfSampler(CacheLocalityScenario.Projects, ZipfExponent, random);
            var versions = new int[CacheLocalityScenario.Projects];
            for (var b = 0; b < count; b++)
            {
                var project = zipf.Next();
                if (random.NextDouble() < ChangeProbability)
                {
                    versions[project]++;
                }

                stream.Projects[b] = project;
                stream.Versions[b] = versions[project];
            }

            return stream;
        }
    }

    private abstract class Strategy
    {
        public abstract string Name { get; }

        public virtual bool IsOracle => false;

        public abstract void SetBuilders(IReadOnlyList<string> builders);

        public abstract string Choose(string key, int build);

        public virtual IDisposable? Track(string builder) => null;

        /// <summary>Builds sent past their home because it was at the load bound.</summary>
        public long Spilled { get; protected set; }
    }

    private sealed class PlacementStrategy : Strategy
    {
        // As the gateway places: c = 1.25 with its default floor of 2 builds per builder.
        private readonly Placement _placement = new(new PlacementOptions { BoundedLoadFactor = 1.25, MinimumLoadBound = 2 });

        public override string Name => BuildPoolName;

        public override void SetBuilders(IReadOnlyList<string> builders) => _placement.Update(builders.Select(b => new Backend(b)));

        public override string Choose(string key, int build)
        {
            var decision = _placement.Place(key);
            Spilled += decision.Outcome == PlacementOutcome.Spilled ? 1 : 0;
            return decision.Backend!.Id;
        }

        public override IDisposable? Track(string builder) => _placement.Track(builder);
    }

    private sealed class RingStrategy : Strategy
    {
        private HashRing _ring = new([], 1);
        private IReadOnlyList<string> _builders = [];

        public override string Name => "ring, no load bound";

        public override void SetBuilders(IReadOnlyList<string> builders)
        {
            _builders = [.. builders];
            _ring = new HashRing([.. builders.Select(b => (b, 1))], 160);
        }

        public override string Choose(string key, int build) => _builders[_ring.OwnerOf(key)];
    }

    private sealed class RandomStrategy : Strategy
    {
        private readonly Random _random = new(Seed + 1);
        private IReadOnlyList<string> _builders = [];

        public override string Name => RandomName;

        public override void SetBuilders(IReadOnlyList<string> builders) => _builders = [.. builders];

        public override string Choose(string key, int build) => _builders[_random.Next(_builders.Count)];
    }

    private sealed class RoundRobinStrategy : Strategy
    {
        private IReadOnlyList<string> _builders = [];
        private int _next;

        public override string Name => "round-robin";

        public override void SetBuilders(IReadOnlyList<string> builders) => _builders = [.. builders];

        public override string Choose(string key, int build) => _builders[_next++ % _builders.Count];
    }

    private sealed class OracleStrategy : Strategy
    {
        public override string Name => "oracle (one infinite cache)";

        public override bool IsOracle => true;

        public override void SetBuilders(IReadOnlyList<string> builders)
        {
        }

        public override string Choose(string key, int build) => string.Empty;
    }
}
