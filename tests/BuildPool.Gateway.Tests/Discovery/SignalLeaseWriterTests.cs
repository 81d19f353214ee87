using BuildPool.Api.V1Alpha1;
using BuildPool.Gateway.Discovery;
using BuildPool.Gateway.Tests.Support;
using BuildPool.LocalApi;
using BuildPool.Runtime.Client;
using BuildPool.TestDoubles;
using k8s.Models;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Eventually = BuildPool.TestDoubles.Eventually;

namespace BuildPool.Gateway.Tests.Discovery;

/// <summary>The gateway's writes on its pool's signal Lease against the local API: batching, backoff on failure, and withdrawals.</summary>
public sealed class SignalLeaseWriterTests : IAsyncLifetime
{
    private const string Ns = "ci";
    private const string Pool = "pool";

    private readonly FakeTimeProvider _clock = new(DateTimeOffset.Parse("2026-03-01T10:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
    private readonly CapturedLogs _logs = new();
    private ILoggerFactory _loggers = null!;
    private readonly CancellationTokenSource _stop = new();
    private LocalApiServer _server = null!;
    private ResourceClient<V1Lease> _leases = null!;
    private SignalLeaseWriter _writer = null!;
    private Task _running = Task.CompletedTask;

    private long Patches => _server.Stats.Count("patch", "leases");

    public async Task InitializeAsync()
    {
        _server = new LocalApiServer(new LocalApiOptions { CrdDirectory = RepositoryPaths.Crds });
        await _server.StartAsync();
        _leases = new ResourceClient<V1Lease>(new KubernetesTransport(_server.CreateClient()));
        await new ResourceClient<V1Namespace>(new KubernetesTransport(_server.CreateClient())).CreateAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = Ns } });
        await _leases.CreateAsync(new V1Lease { Metadata = new V1ObjectMeta { Name = GatewaySignals.LeaseName(Pool), NamespaceProperty = Ns }, Spec = new V1LeaseSpec() });
        _loggers = LoggerFactory.Create(b => b.AddProvider(_logs).SetMinimumLevel(LogLevel.Trace));
        // No jitter: each wait is exactly half its ceiling, so the test knows when each try comes.
        _writer = new SignalLeaseWriter(_leases, Ns, Pool, _clock, new SignalRetryOptions { Random = new FixedRandom(0) }, _loggers.CreateLogger<SignalLeaseWriter>());
        _running = _writer.RunAsync(_stop.Token);
    }

    public async Task DisposeAsync()
    {
        await _stop.CancelAsync();
        await _running;
        _stop.Dispose();
        _loggers.Dispose();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task A_forbidden_lease_is_asked_once_per_backoff_step_and_logged_once_then_gets_every_queued_signal_in_one_patch()
    {
        _server.Faults.Forbidden[("patch", "leases")] = true;
        // Six builds asking in a burst (the case a real cluster showed: six PATCHes in 400 ms, all 403).
        var demands = Enumerable.Range(0, 6).Select(i => GatewaySignals.Demand($"key-{i}", null, _clock.GetUtcNow())).ToList();
        foreach (var demand in demands)
        {
            _writer.Set(demand);
        }

        await Eventually.WaitAsync(() => ForbiddenLogged() == 1, "the first 403");
        Assert.Equal(1, Patches);

        // Waits of 5 s, 10 s, 20 s (half of 10 s doubling, no jitter): one try at the end of each, none before.
        long expected = 1;
        foreach (var wait in new[] { 5, 10, 20 })
        {
            _clock.Advance(TimeSpan.FromSeconds(wait) - TimeSpan.FromMilliseconds(100));
            await Eventually.NeverAsync(() => Patches > expected, $"a try before the {wait} s wait ended");
            _clock.Advance(TimeSpan.FromMilliseconds(100));
            expected++;
            await Eventually.WaitAsync(() => Patches == expected && _logs.Lines.Count(l => l.StartsWith("Debug 724 ", StringComparison.Ordinal)) == expected - 1, $"try {expected} after a {wait} s wait");
        }

        Assert.Equal(4, _server.Faults.InjectedForbidden);
        Assert.Equal(1, ForbiddenLogged());
        Assert.DoesNotContain(_logs.Lines, l => l.StartsWith("Warning 723 ", StringComparison.Ordinal));

        // The Role arrives: the next try writes all six at once.
        _server.Faults.Forbidden.Clear();
        _clock.Advance(TimeSpan.FromSeconds(40));
        await Eventually.WaitAsync(() => _logs.Lines.Any(l => l.StartsWith("Information 725 ", StringComparison.Ordinal)), "the writes to succeed");
        Assert.Equal(5, Patches);
        var lease = (await _leases.GetAsync(Ns, GatewaySignals.LeaseName(Pool)))!;
        Assert.All(demands, d => Assert.Equal(d.Value, lease.Metadata.Annotations[d.Key]));
    }

    [Fact]
    public async Task Failures_other_than_403_are_tried_again_soon_with_growing_waits()
    {
        _server.Faults.ServerErrorRate = 1;
        _writer.Set(GatewaySignals.Used("pool-0", _clock.GetUtcNow()));
        await Eventually.WaitAsync(() => _logs.Lines.Any(l => l.StartsWith("Warning 723 ", StringComparison.Ordinal)), "the first failure");
        // The API client retries a 500 a few times itself; each of the writer's tries ends after those.
        var first = _server.Faults.InjectedServerErrors;
        Assert.True(first >= 1, "at least one try");

        _clock.Advance(TimeSpan.FromMilliseconds(250));
        await Eventually.WaitAsync(() => _logs.Lines.Any(l => l.StartsWith("Debug 724 ", StringComparison.Ordinal)), "a second try after 250 ms");
        Assert.True(_server.Faults.InjectedServerErrors > first, "the second try reached the API");
        _server.Faults.ServerErrorRate = 0;
        _clock.Advance(TimeSpan.FromMilliseconds(500));
        await Eventually.WaitAsync(() => _logs.Lines.Any(l => l.StartsWith("Information 725 ", StringComparison.Ordinal)), "the write to succeed");
        Assert.NotNull((await _leases.GetAsync(Ns, GatewaySignals.LeaseName(Pool)))!.Metadata.Annotations?.Keys.FirstOrDefault(k => k.StartsWith(GatewaySignals.UsedPrefix, StringComparison.Ordinal)));
        Assert.DoesNotContain(_logs.Lines, l => l.StartsWith("Warning 722 ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_withdrawal_removes_the_value_this_gateway_wrote()
    {
        var demand = GatewaySignals.Demand("gone", "team-a", _clock.GetUtcNow());
        _writer.Set(demand);
        await Eventually.WaitAsync(() => AnnotationAsync(demand.Key), v => v == demand.Value, "the demand to be written");

        _writer.Withdraw(demand.Key, demand.Value, () => false);

        await Eventually.WaitAsync(() => AnnotationAsync(demand.Key), v => v is null, "the demand to be withdrawn");
    }

    [Fact]
    public async Task A_withdrawal_leaves_a_newer_request_of_another_gateway_replica_and_one_wanted_again()
    {
        var mine = GatewaySignals.Demand("shared", "team-a", _clock.GetUtcNow());
        _writer.Set(mine);
        await Eventually.WaitAsync(() => AnnotationAsync(mine.Key), v => v == mine.Value, "the demand to be written");
        var theirs = GatewaySignals.Demand("shared", "team-a", _clock.GetUtcNow().AddSeconds(3));
        await _leases.PatchAsync(Ns, GatewaySignals.LeaseName(Pool), new { metadata = new { annotations = new Dictionary<string, string> { [theirs.Key] = theirs.Value } } });
        var other = GatewaySignals.Demand("other", null, _clock.GetUtcNow());
        _writer.Set(other);
        await Eventually.WaitAsync(() => AnnotationAsync(other.Key), v => v == other.Value, "the second demand to be written");
        var patches = Patches;

        _writer.Withdraw(mine.Key, mine.Value, () => false);
        _writer.Withdraw(other.Key, other.Value, () => true);

        // One JSON patch (its test fails on the newer value) and none for the key wanted again.
        await Eventually.WaitAsync(() => Patches == patches + 1, "the withdrawal to be tried");
        await Eventually.NeverAsync(() => Patches > patches + 1, "a patch for a demand wanted again");
        Assert.Equal(theirs.Value, await AnnotationAsync(theirs.Key));
        Assert.Equal(other.Value, await AnnotationAsync(other.Key));
    }

    private int ForbiddenLogged() => _logs.Lines.Count(l => l.StartsWith("Warning 722 ", StringComparison.Ordinal));

    private async Task<string?> AnnotationAsync(string name) =>
        (await _leases.GetAsync(Ns, GatewaySignals.LeaseName(Pool)))?.Metadata.Annotations?.TryGetValue(name, out var value) == true ? value : null;

    private sealed class FixedRandom(double value) : Random
    {
        public override double NextDouble() => value;
    }
}
