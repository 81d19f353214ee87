using BenchmarkDotNet.Attributes;
using BuildPool.Gateway.Routing;

namespace BuildPool.Benchmarks.Routing;

/// <summary>
/// The cost of one routing decision with bounded loads: BuildPool's <see cref="Placement.Place"/>
/// (ring) against rendezvous and Maglev implemented here. Each decision hashes the key, as the
/// gateway does; every builder already runs two builds so the load check is real.
/// </summary>
[MemoryDiagnoser]
public class RoutingDecisionBenchmarks
{
    private const double LoadFactor = 1.25;
    private const int KeyCount = 1024;

    private readonly string[] _keys = [.. Enumerable.Range(0, KeyCount).Select(i => $"github.com/org/project-{i}")];
    private Placement _placement = null!;
    private RendezvousRouter _rendezvous = null!;
    private MaglevRouter _maglev = null!;
    private int[] _loads = [];
    private long _total;
    private int _next;

    [Params(8, 64, 256)]
    public int Builders { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var ids = Enumerable.Range(0, Builders).Select(i => $"pool-{i}").ToList();
        _placement = new Placement(new PlacementOptions { BoundedLoadFactor = LoadFactor });
        _placement.Update(ids.Select(id => new Backend(id)));
        _rendezvous = new RendezvousRouter(ids);
        _maglev = new MaglevRouter(ids);
        _loads = new int[Builders];
        for (var i = 0; i < 2 * Builders; i++)
        {
            // Handles stay open for the whole run: these are the builds already running.
            var key = $"running-{i}";
            _ = _placement.Track(_placement.Place(key).Backend!.Id);
            _loads[_rendezvous.Place(KeyHash.Hash(key), _loads, Capacity())]++;
            _total++;
        }
    }

    [Benchmark(Baseline = true, Description = "ring + bounded loads (Placement.Place)")]
    public PlacementDecision Ring() => _placement.Place(NextKey());

    [Benchmark(Description = "rendezvous + bounded loads")]
    public int Rendezvous() => _rendezvous.Place(KeyHash.Hash(NextKey()), _loads, Capacity());

    [Benchmark(Description = "Maglev + bounded loads")]
    public int Maglev() => _maglev.Place(KeyHash.Hash(NextKey()), _loads, Capacity());

    private string NextKey() => _keys[_next++ & (KeyCount - 1)];

    private long Capacity() => (long)Math.Ceiling(LoadFactor * (Interlocked.Read(ref _total) + 1) / _loads.Length);
}
