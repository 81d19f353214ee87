namespace BuildPool.Gateway.Insight;

/// <summary>
/// What the gateway remembers to explain cache misses, in memory and per replica: for each key
/// its last builds (vertexes and builder), and the prunes of each builder it knows of. Bounded:
/// the <see cref="MaxKeys"/> most recently built keys (least recently built forgotten first),
/// <see cref="BuildsPerKey"/> builds per key, <see cref="MaxSteps"/> vertexes per build and
/// <see cref="MaxTotalSteps"/> over all keys (names are already cut by the Status tally),
/// <see cref="PrunesPerBuilder"/> prunes per builder. A past build keeps only what comparing
/// needs: its Dockerfile steps without their inputs (the <c>[internal]</c> ones always run).
/// </summary>
public sealed class BuildHistory
{
    public const int MaxKeys = 1024;
    public const int BuildsPerKey = 4;
    public const int MaxSteps = 256;
    public const int PrunesPerBuilder = 8;
    public const int MaxBuilders = 1024;

    /// <summary>Vertexes kept over all keys' builds (a few hundred bytes each).</summary>
    public const int MaxTotalSteps = 100_000;

    private readonly Lock _lock = new();
    private readonly Dictionary<string, LinkedListNode<(string Key, List<PastBuild> Builds)>> _keys = new(StringComparer.Ordinal);
    private readonly LinkedList<(string Key, List<PastBuild> Builds)> _recency = new();
    private readonly Dictionary<string, List<PruneRecord>> _prunes = new(StringComparer.Ordinal);
    private int _steps;

    /// <summary>Keys remembered now.</summary>
    public int KeyCount
    {
        get
        {
            lock (_lock)
            {
                return _keys.Count;
            }
        }
    }

    /// <summary>The key's remembered builds, newest first.</summary>
    public IReadOnlyList<PastBuild> Of(string key)
    {
        lock (_lock)
        {
            return _keys.TryGetValue(key, out var node) ? [.. node.Value.Builds] : [];
        }
    }

    /// <summary>Vertexes kept now over all keys.</summary>
    public int StepCount
    {
        get
        {
            lock (_lock)
            {
                return _steps;
            }
        }
    }

    /// <summary>Remembers a finished build of <paramref name="key"/> (its Dockerfile steps, at most <see cref="MaxSteps"/>).</summary>
    public void Add(string key, PastBuild build)
    {
        ArgumentNullException.ThrowIfNull(build);
        build = build with
        {
            Steps = [.. build.Steps.Where(s => !MissClassifier.IsInternal(s)).Take(MaxSteps).Select(s => s.Inputs.Count == 0 ? s : s with { Inputs = [] })],
        };

        lock (_lock)
        {
            if (_keys.TryGetValue(key, out var node))
            {
                _recency.Remove(node);
            }
            else
            {
                node = new LinkedListNode<(string, List<PastBuild>)>((key, []));
                _keys.Add(key, node);
            }

            _recency.AddFirst(node);
            var builds = node.Value.Builds;
            builds.Insert(0, build);
            _steps += build.Steps.Count;
            if (builds.Count > BuildsPerKey)
            {
                _steps -= builds.Skip(BuildsPerKey).Sum(b => b.Steps.Count);
                builds.RemoveRange(BuildsPerKey, builds.Count - BuildsPerKey);
            }

            while ((_keys.Count > MaxKeys || _steps > MaxTotalSteps) && _recency.Last is { } oldest && oldest != node)
            {
                _recency.RemoveLast();
                _keys.Remove(oldest.Value.Key);
                _steps -= oldest.Value.Builds.Sum(b => b.Steps.Count);
            }
        }
    }

    /// <summary>A prune of <paramref name="builder"/>'s cache; the same moment twice is recorded once.</summary>
    public void Pruned(string builder, PruneRecord prune)
    {
        ArgumentNullException.ThrowIfNull(prune);
        lock (_lock)
        {
            if (!_prunes.TryGetValue(builder, out var list))
            {
                if (_prunes.Count >= MaxBuilders)
                {
                    return;
                }

                list = [];
                _prunes.Add(builder, list);
            }

            if (list.Any(p => p.At == prune.At))
            {
                return;
            }

            list.Add(prune);
            list.Sort((a, b) => a.At.CompareTo(b.At));
            if (list.Count > PrunesPerBuilder)
            {
                list.RemoveRange(0, list.Count - PrunesPerBuilder);
            }
        }
    }

    /// <summary>The prunes of <paramref name="builder"/> known to this gateway, oldest first.</summary>
    public IReadOnlyList<PruneRecord> PrunesOf(string builder)
    {
        lock (_lock)
        {
            return _prunes.TryGetValue(builder, out var list) ? [.. list] : [];
        }
    }
}
