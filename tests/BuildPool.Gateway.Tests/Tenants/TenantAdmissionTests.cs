using BuildPool.Gateway.Admission;
using BuildPool.Gateway.Tenants;
using BuildPool.Gateway.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace BuildPool.Gateway.Tests.Tenants;

public sealed class TenantAdmissionTests
{
    private static readonly TenantInfo Alpha = new("team/alpha", "A1") { Binding = "ci/alpha", MaxConcurrentBuilds = 1 };
    private static readonly TenantInfo Beta = new("team/beta", "B1") { Binding = "ci/beta" };

    private readonly FakeTimeProvider _time = new();
    private readonly AdmissionController _builders;
    private readonly TenantAdmission _tenants;

    public TenantAdmissionTests()
    {
        _builders = new AdmissionController(new AdmissionOptions { QueueTimeout = TimeSpan.FromMinutes(5), DefaultMaxConcurrentBuilds = 2 }, _time);
        _tenants = new TenantAdmission(TimeSpan.FromMinutes(5), _time);
    }

    [Fact]
    public async Task A_tenant_waiting_for_its_own_slot_holds_no_builder_slot_so_other_tenants_go_ahead()
    {
        using var alphaRunning = await AdmitAsync(Alpha);
        var alphaQueued = AdmitAsync(Alpha);

        using var beta = await AdmitAsync(Beta).Within();

        Assert.False(alphaQueued.IsCompleted);
        Assert.Equal(new AdmissionCounts(2, 0, 2), _builders.GetCounts("b"));
        Assert.Equal(new AdmissionCounts(1, 1, 1), _tenants.GetCounts(Alpha));
        beta.Dispose();
        alphaRunning.Dispose();
        using var next = await alphaQueued.Within();
        Assert.Equal(new AdmissionCounts(1, 0, 1), _tenants.GetCounts(Alpha));
    }

    [Fact]
    public async Task Ending_a_build_gives_back_both_its_builder_and_its_tenant_slot()
    {
        var lease = await AdmitAsync(Alpha);
        Assert.Equal((1, 1), (_builders.GetCounts("b").Running, _tenants.GetCounts(Alpha).Running));

        lease.Dispose();
        lease.Dispose();

        Assert.Equal((0, 0), (_builders.GetCounts("b").Running, _tenants.GetCounts(Alpha).Running));
    }

    [Fact]
    public async Task A_build_whose_builder_slot_times_out_gives_its_tenant_slot_back()
    {
        var limited = Alpha with { MaxConcurrentBuilds = 5 };
        using var first = await AdmitAsync(Beta);
        using var second = await AdmitAsync(Beta);
        var waiting = AdmitAsync(limited);
        await Eventually.TrueAsync(() => _builders.GetCounts("b").Queued == 1, "the build queues for the full builder");

        _time.Advance(TimeSpan.FromMinutes(5));

        await Assert.ThrowsAsync<BuilderAtCapacityException>(() => waiting.Within());
        Assert.Equal(new AdmissionCounts(0, 0, 5), _tenants.GetCounts(limited));
    }

    [Fact]
    public async Task A_build_waiting_past_the_queue_timeout_fails_naming_the_tenant_and_its_limit()
    {
        using var running = await AdmitAsync(Alpha);
        var waiting = AdmitAsync(Alpha);
        await Eventually.TrueAsync(() => _tenants.GetCounts(Alpha).Queued == 1, "the build queues for its tenant");

        _time.Advance(TimeSpan.FromMinutes(5));

        var error = await Assert.ThrowsAsync<TenantAtCapacityException>(() => waiting.Within());
        Assert.Equal("tenant team/alpha is at its limit of 1 running build (maxConcurrentBuilds of SecretBinding ci/alpha); waited 5m in queue", error.Message);
        Assert.Equal(new AdmissionCounts(1, 0, 2), _builders.GetCounts("b"));
    }

    [Fact]
    public async Task Raising_a_tenants_limit_admits_its_queued_build_at_once()
    {
        using var running = await AdmitAsync(Alpha);
        var waiting = AdmitAsync(Alpha);
        await Eventually.TrueAsync(() => _tenants.GetCounts(Alpha).Queued == 1, "the build queues for its tenant");

        _tenants.Update([Alpha with { MaxConcurrentBuilds = null }]);

        using var admitted = await waiting.Within();
        Assert.Equal(2, _builders.GetCounts("b").Running);
    }

    private Task<AdmissionLease> AdmitAsync(TenantInfo tenant) =>
        _tenants.AdmitAsync(tenant, ct => _builders.AcquireAsync("b", ct), CancellationToken.None);
}
