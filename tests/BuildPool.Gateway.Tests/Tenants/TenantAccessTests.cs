using System.Diagnostics;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using BuildPool.Api.V1Alpha1;
using BuildPool.BuildKit.Protocol;
using BuildPool.Gateway.Server;
using BuildPool.Gateway.Tenants;
using BuildPool.Gateway.Tests.Discovery;
using BuildPool.Gateway.Tests.Support;
using BuildPool.Http2;
using BuildPool.Runtime.Client;
using BuildPool.TestDoubles;
using BuildPool.TestDoubles.Protocol.Frontend;
using Grpc.Core;
using Grpc.Net.Client;
using k8s.Models;
using Microsoft.Extensions.Time.Testing;
using Eventually = BuildPool.Gateway.Tests.Support.Eventually;

namespace BuildPool.Gateway.Tests.Tenants;

/// <summary>
/// The gateway in pool mode serving mTLS with the pool CA, its tenants the pool's ClientAccess
/// SecretBindings on the local API (the test writes each binding's status in the operator's
/// place). Every client does a real TLS handshake: Grpc.Net.Client over SocketsHttpHandler, or
/// the buildx-like client.
/// </summary>
public sealed class TenantAccessTests : IDisposable
{
    private const string Volume = "pool-0";
    private const string TenantNamespace = "team";

    private readonly string _directory = Directory.CreateTempSubdirectory("buildpool-tenants-").FullName;
    private readonly TestPki _pki;
    private readonly TestPki _otherPool;
    private readonly string _serverCert;
    private readonly string _serverKey;

    public TenantAccessTests()
    {
        _pki = new TestPki(_directory, "pool-ca");
        _otherPool = new TestPki(_directory, "other-pool-ca");
        var (server, certPath, keyPath) = _pki.IssueServer("gateway", "pool-gateway.ci.svc");
        server.Dispose();
        (_serverCert, _serverKey) = (certPath, keyPath);
    }

    public void Dispose()
    {
        _pki.Dispose();
        _otherPool.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    public static TheoryData<ClientTlsStyle> Styles => [ClientTlsStyle.Buildx, ClientTlsStyle.AlpnH2];

    [Theory]
    [MemberData(nameof(Styles))]
    public async Task A_bound_tenant_builds_and_the_build_log_names_the_tenant(ClientTlsStyle style)
    {
        await using var h = await StartAsync();
        using var client = Client("alpha");
        await BindAsync(h, "alpha", client);
        var buildx = Buildx(h, client, style);

        var result = await buildx.BuildAsync(new FakeBuildxOptions { Bootstrap = true });

        Assert.True(result.Succeeded, result.ToString());
        Assert.Equal(Volume, result.Builder);
        Gateway.Builds.BuildSummary? summary = null;
        await Eventually.TrueAsync(() => (summary = h.Gateway.Builds.RecentBuilds.FirstOrDefault(b => b.Ref == result.Ref)) is not null, "the build's summary");
        Assert.Equal($"{TenantNamespace}/alpha", summary!.Tenant);
    }

    [Theory]
    [MemberData(nameof(Styles))]
    public async Task Deleting_the_binding_refuses_the_tenants_next_build_with_permission_denied(ClientTlsStyle style)
    {
        await using var h = await StartAsync();
        using var client = Client("alpha");
        await BindAsync(h, "alpha", client);
        var buildx = Buildx(h, client, style);
        var before = await buildx.BuildAsync(new FakeBuildxOptions { Bootstrap = false });
        Assert.True(before.Succeeded, before.ToString());

        await new ResourceClient<SecretBinding>(h.Transport).DeleteAsync(PoolGatewayHarness.Ns, "alpha");
        await Eventually.TrueAsync(() => h.Discovery.Tenants.Directory.Find(client.SerialNumber) is null, "the gateway forgets the deleted binding");
        var after = await buildx.BuildAsync(new FakeBuildxOptions { Bootstrap = false });

        Assert.Equal(StatusCode.PermissionDenied, after.Status);
        Assert.Contains("was deleted or never existed", after.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(h.Fleet[Volume].Builds.Solves, s => s.Ref == after.Ref);
    }

    [Theory]
    [MemberData(nameof(Styles))]
    public async Task A_buildx_client_without_a_certificate_or_with_another_pools_certificate_is_refused_before_any_builder(ClientTlsStyle style)
    {
        await using var h = await StartAsync();
        using var foreign = Client("alpha", _otherPool);
        await BindAsync(h, "alpha", foreign);

        var anonymous = await Buildx(h, certificate: null, style).BuildAsync(new FakeBuildxOptions { Bootstrap = false, Timeout = TimeSpan.FromSeconds(10) });
        var stranger = await Buildx(h, foreign, style).BuildAsync(new FakeBuildxOptions { Bootstrap = false, Timeout = TimeSpan.FromSeconds(10) });

        // Refused at the handshake: a transport failure (or, with TLS 1.3, a broken first
        // response), not a wait for the deadline.
        Assert.Contains(anonymous.Status, new[] { StatusCode.Unavailable, StatusCode.Internal });
        Assert.Contains(stranger.Status, new[] { StatusCode.Unavailable, StatusCode.Internal });
        Assert.Empty(h.Fleet[Volume].Builds.Calls);
    }

    [Fact]
    public async Task A_certificate_whose_binding_never_existed_is_refused_with_permission_denied_naming_it()
    {
        await using var h = await StartAsync();
        using var bound = Client("alpha");
        await BindAsync(h, "alpha", bound);
        using var stranger = Client("stranger");
        using var channel = Channel(h, stranger, out _);
        var control = new Control.ControlClient(channel);

        var refused = await Assert.ThrowsAsync<RpcException>(async () => await control.SolveAsync(new SolveRequest { Ref = "r-stranger" }));

        Assert.Equal(StatusCode.PermissionDenied, refused.StatusCode);
        Assert.Contains($"client certificate {TenantNamespace}/stranger", refused.Status.Detail, StringComparison.Ordinal);
        Assert.Contains($"serial {CertificateSerial.Normalize(stranger.SerialNumber)}", refused.Status.Detail, StringComparison.Ordinal);
        Assert.Contains("SecretBinding", refused.Status.Detail, StringComparison.Ordinal);
        Assert.Contains("was deleted or never existed", refused.Status.Detail, StringComparison.Ordinal);
        // Keyless calls are refused too, and nothing reached the builder.
        var keyless = await Assert.ThrowsAsync<RpcException>(async () => await control.ListWorkersAsync(new ListWorkersRequest()));
        Assert.Equal(StatusCode.PermissionDenied, keyless.StatusCode);
        Assert.Empty(h.Fleet[Volume].Builds.Calls);
    }

    [Fact]
    public async Task Deleting_the_binding_refuses_the_next_build_on_a_connection_that_stayed_open_within_ten_seconds()
    {
        await using var h = await StartAsync();
        using var client = Client("alpha");
        await BindAsync(h, "alpha", client);
        using var channel = Channel(h, client, out var connects);
        var control = new Control.ControlClient(channel);
        var before = await control.SolveAsync(new SolveRequest { Ref = "r-before" });
        Assert.Equal(Volume, before.ExporterResponse["x-fake-builder"]);

        await new ResourceClient<SecretBinding>(h.Transport).DeleteAsync(PoolGatewayHarness.Ns, "alpha");
        var deleted = Stopwatch.StartNew();
        RpcException? refused = null;
        var attempt = 0;
        await global::BuildPool.TestDoubles.Eventually.TrueAsync(
            async () =>
            {
                try
                {
                    await control.SolveAsync(new SolveRequest { Ref = $"r-after-{attempt++}" });
                    return false;
                }
                catch (RpcException ex) when (ex.StatusCode == StatusCode.PermissionDenied)
                {
                    refused = ex;
                    return true;
                }
            },
            "a build after the binding's deletion is refused",
            TimeSpan.FromSeconds(10));

        Assert.InRange(deleted.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(10));
        Assert.Contains("was deleted or never existed", refused!.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(1, Volatile.Read(ref connects.Value));
    }

    [Fact]
    public async Task A_renewed_bindings_previous_certificate_builds_until_its_not_after_and_deleting_the_binding_refuses_both()
    {
        // The gateway's clock, not the handshake, ends the grace: both certificates stay valid for TLS throughout.
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var h = await StartAsync(time: clock);
        using var previous = Client("alpha");
        using var current = Client("alpha");
        var notAfter = clock.GetUtcNow().UtcDateTime.AddHours(1);
        await BindAsync(h, "alpha", current, status: s =>
        {
            s.PreviousCertificateSerialNumber = previous.SerialNumber;
            s.PreviousCertificateNotAfter = new DateTime(notAfter.Ticks - (notAfter.Ticks % TimeSpan.TicksPerSecond), DateTimeKind.Utc);
        });
        using var previousChannel = Channel(h, previous, out _);
        using var currentChannel = Channel(h, current, out _);
        var withPrevious = new Control.ControlClient(previousChannel);
        var withCurrent = new Control.ControlClient(currentChannel);

        Assert.Equal(Volume, (await withPrevious.SolveAsync(new SolveRequest { Ref = "r-previous" })).ExporterResponse["x-fake-builder"]);
        Assert.Equal(Volume, (await withCurrent.SolveAsync(new SolveRequest { Ref = "r-current" })).ExporterResponse["x-fake-builder"]);
        Assert.Equal($"{TenantNamespace}/alpha", h.Discovery.Tenants.Directory.Find(previous.SerialNumber)?.Identity);

        clock.Advance(TimeSpan.FromMinutes(59));
        Assert.Equal(Volume, (await withPrevious.SolveAsync(new SolveRequest { Ref = "r-previous-late" })).ExporterResponse["x-fake-builder"]);

        clock.Advance(TimeSpan.FromMinutes(1));
        var expired = await Assert.ThrowsAsync<RpcException>(async () => await withPrevious.SolveAsync(new SolveRequest { Ref = "r-previous-expired" }));
        Assert.Equal(StatusCode.PermissionDenied, expired.StatusCode);
        Assert.Equal(
            $"client certificate {TenantNamespace}/alpha (serial {CertificateSerial.Normalize(previous.SerialNumber)}) is not allowed to build: its SecretBinding (kind ClientAccess) for BuilderPool {PoolGatewayHarness.Ns}/{PoolGatewayHarness.PoolName} was deleted or never existed",
            expired.Status.Detail);
        Assert.DoesNotContain(h.Fleet[Volume].Builds.Solves, s => s.Ref == "r-previous-expired");
        Assert.Equal(Volume, (await withCurrent.SolveAsync(new SolveRequest { Ref = "r-current-late" })).ExporterResponse["x-fake-builder"]);

        // Deleted while the previous certificate is still in its grace period: neither builds.
        var bindings = new ResourceClient<SecretBinding>(h.Transport);
        var live = (await bindings.GetAsync(PoolGatewayHarness.Ns, "alpha"))!;
        live.Status.PreviousCertificateNotAfter = live.Status.PreviousCertificateNotAfter!.Value.AddHours(1);
        await bindings.ReplaceStatusAsync(live);
        await Eventually.TrueAsync(() => h.Discovery.Tenants.Directory.Find(previous.SerialNumber) is not null, "the previous certificate is accepted again");
        await bindings.DeleteAsync(PoolGatewayHarness.Ns, "alpha");
        await Eventually.TrueAsync(
            () => h.Discovery.Tenants.Directory.Find(previous.SerialNumber) is null && h.Discovery.Tenants.Directory.Find(current.SerialNumber) is null,
            "the gateway forgets the deleted binding");
        foreach (var (control, name) in new[] { (withPrevious, "previous"), (withCurrent, "current") })
        {
            var refused = await Assert.ThrowsAsync<RpcException>(async () => await control.SolveAsync(new SolveRequest { Ref = $"r-{name}-deleted" }));
            Assert.Equal(StatusCode.PermissionDenied, refused.StatusCode);
            Assert.Contains("was deleted or never existed", refused.Status.Detail, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_certificate_from_another_pools_ca_fails_the_tls_handshake()
    {
        await using var h = await StartAsync();
        using var foreign = Client("alpha", _otherPool);
        // Even a binding that names its serial does not help: the CA is the first gate.
        await BindAsync(h, "alpha", foreign);
        using var channel = Channel(h, foreign, out _);

        var refused = await Assert.ThrowsAsync<RpcException>(async () => await new Control.ControlClient(channel).ListWorkersAsync(new ListWorkersRequest()));

        // With TLS 1.3 the server checks the client's certificate after the client's side of the
        // handshake is done, so the client may already be sending its request when the alert
        // arrives: the call then fails as a broken response (Internal) instead of a failed
        // connect (Unavailable). Either way it never reaches a builder.
        Assert.Contains(refused.StatusCode, new[] { StatusCode.Unavailable, StatusCode.Internal });
        Assert.Empty(h.Fleet[Volume].Builds.Calls);
    }

    [Fact]
    public async Task Without_a_client_certificate_the_handshake_fails_when_certificates_are_required()
    {
        await using var h = await StartAsync();
        using var channel = Channel(h, certificate: null, out _);

        var refused = await Assert.ThrowsAsync<RpcException>(async () => await new Control.ControlClient(channel).ListWorkersAsync(new ListWorkersRequest()));

        // With TLS 1.3 the server checks the client's certificate after the client's side of the
        // handshake is done, so the client may already be sending its request when the alert
        // arrives: the call then fails as a broken response (Internal) instead of a failed
        // connect (Unavailable). Either way it never reaches a builder.
        Assert.Contains(refused.StatusCode, new[] { StatusCode.Unavailable, StatusCode.Internal });
        Assert.Empty(h.Fleet[Volume].Builds.Calls);
    }

    [Fact]
    public async Task With_optional_client_certificates_an_anonymous_client_builds_but_an_unbound_certificate_is_still_refused()
    {
        await using var h = await StartAsync(o => o with { RequireClientCertificate = false });
        using var anonymous = Channel(h, certificate: null, out _);
        using var stranger = Client("stranger");
        using var unbound = Channel(h, stranger, out _);

        var built = await new Control.ControlClient(anonymous).SolveAsync(new SolveRequest { Ref = "r-anonymous" });
        var refused = await Assert.ThrowsAsync<RpcException>(async () => await new Control.ControlClient(unbound).SolveAsync(new SolveRequest { Ref = "r-unbound" }));

        Assert.Equal(Volume, built.ExporterResponse["x-fake-builder"]);
        Assert.Equal(StatusCode.PermissionDenied, refused.StatusCode);
    }

    [Fact]
    public async Task A_tenant_at_its_limit_queues_the_next_build_until_one_finishes()
    {
        await using var h = await StartAsync();
        h.Fleet.Configure(b => b.HoldSolves = true);
        using var client = Client("alpha");
        var tenant = await BindAsync(h, "alpha", client, maxConcurrentBuilds: 1);
        using var channel = Channel(h, client, out _);
        var control = new Control.ControlClient(channel);

        using var first = control.SolveAsync(new SolveRequest { Ref = "r-first" });
        await h.Fleet[Volume].Builds.WaitForRunningAsync("r-first");
        using var second = control.SolveAsync(new SolveRequest { Ref = "r-second" });
        await Eventually.TrueAsync(() => h.Gateway.Tenants.GetCounts(tenant).Queued == 1, "the second build waits for its tenant's slot");

        Assert.DoesNotContain(h.Fleet[Volume].Builds.Solves, s => s.Ref == "r-second");
        Assert.Equal(1, h.Gateway.Tenants.GetCounts(tenant).Running);
        // The builder has free slots: only the tenant's limit holds the build back.
        Assert.Equal(0, h.Gateway.Admission.GetCounts(Volume).Queued);

        h.Fleet[Volume].Builds.Release("r-first");
        await first.ResponseAsync.Within();
        await h.Fleet[Volume].Builds.WaitForRunningAsync("r-second");
        h.Fleet[Volume].Builds.Release("r-second");
        var response = await second.ResponseAsync.Within();
        Assert.Equal(Volume, response.ExporterResponse["x-fake-builder"]);
        await Eventually.TrueAsync(() => h.Gateway.Tenants.GetCounts(tenant) is { Running: 0, Queued: 0 }, "both tenant slots are back");
    }

    [Fact]
    public async Task A_build_queued_past_the_queue_timeout_fails_resource_exhausted_naming_the_tenant_limit_and_wait()
    {
        await using var h = await StartAsync(pool: p => p.Routing.QueueTimeout = "1s");
        h.Fleet.Configure(b => b.HoldSolves = true);
        using var client = Client("alpha");
        var tenant = await BindAsync(h, "alpha", client, maxConcurrentBuilds: 1);
        using var channel = Channel(h, client, out _);
        var control = new Control.ControlClient(channel);
        using var first = control.SolveAsync(new SolveRequest { Ref = "r-first" });
        await h.Fleet[Volume].Builds.WaitForRunningAsync("r-first");

        var refused = await Assert.ThrowsAsync<RpcException>(async () => await control.SolveAsync(new SolveRequest { Ref = "r-second" }).ResponseAsync.Within());

        Assert.Equal(StatusCode.ResourceExhausted, refused.StatusCode);
        Assert.Equal(
            $"tenant {TenantNamespace}/alpha is at its limit of 1 running build (maxConcurrentBuilds of SecretBinding {PoolGatewayHarness.Ns}/alpha); waited 1s in queue",
            refused.Status.Detail);
        Assert.DoesNotContain(h.Fleet[Volume].Builds.Solves, s => s.Ref == "r-second");
        Assert.Equal(new Gateway.Admission.AdmissionCounts(1, 0, 1), h.Gateway.Tenants.GetCounts(tenant));
        h.Fleet[Volume].Builds.Release("r-first");
        await first.ResponseAsync.Within();
    }

    [Fact]
    public async Task A_tenant_naming_another_tenants_image_never_lands_on_the_volume_pinned_for_that_tenant()
    {
        // Beta's release volume, pinned to beta's key as the gateway names it now (beta@…) and as it did before tenants had key spaces.
        await using var h = await StartAsync(pool: ImageKeys, volumes: [Volume, "beta-release"], pinned: new Dictionary<string, string[]> { ["beta-release"] = ["beta@reg.test/app", "reg.test/app"] });
        using var alpha = Client("alpha");
        using var beta = Client("beta");
        await BindAsync(h, "alpha", alpha);
        await BindAsync(h, "beta", beta);

        var betas = await Buildx(h, beta, ClientTlsStyle.Buildx).BuildAsync(new FakeBuildxOptions { Bootstrap = false, ExporterImage = "reg.test/app:1" });
        var alphas = await Buildx(h, alpha, ClientTlsStyle.Buildx).BuildAsync(new FakeBuildxOptions { Bootstrap = false, ExporterImage = "reg.test/app:1" });

        Assert.True(betas.Succeeded, betas.ToString());
        Assert.Equal("beta-release", betas.Builder);
        Assert.True(alphas.Succeeded, alphas.ToString());
        Assert.Equal(Volume, alphas.Builder);
        Assert.DoesNotContain(h.Fleet["beta-release"].Builds.Calls, c => c.Ref == alphas.Ref || c.SessionId == alphas.SessionId);
        Gateway.Builds.BuildSummary? summary = null;
        await Eventually.TrueAsync(() => (summary = h.Gateway.Builds.RecentBuilds.FirstOrDefault(b => b.Ref == alphas.Ref)) is not null, "alpha's build summary");
        Assert.Equal("alpha@reg.test/app", summary!.Key);
    }

    [Fact]
    public async Task A_key_a_binding_shares_is_used_as_it_is_by_that_tenant_only()
    {
        await using var h = await StartAsync(pool: ImageKeys, volumes: [Volume, "base"], pinned: new Dictionary<string, string[]> { ["base"] = ["base-images"] });
        using var alpha = Client("alpha");
        using var beta = Client("beta");
        await BindAsync(h, "alpha", alpha, access: a => a.SharedKeys = ["base-images"]);
        await BindAsync(h, "beta", beta);

        var alphas = await Buildx(h, alpha, ClientTlsStyle.Buildx).BuildAsync(new FakeBuildxOptions { Bootstrap = false, ExporterImage = "base-images:1" });
        var betas = await Buildx(h, beta, ClientTlsStyle.Buildx).BuildAsync(new FakeBuildxOptions { Bootstrap = false, ExporterImage = "base-images:1" });

        Assert.Equal("base", alphas.Builder);
        Assert.Equal(Volume, betas.Builder);
    }

    [Fact]
    public async Task An_untrusted_tenant_that_connects_without_its_certificate_never_builds_on_a_trusted_builder()
    {
        await using var h = await StartAsync(o => o with { RequireClientCertificate = false }, pool: p => p.Scaling.StartTimeout = "1s");
        using var forks = Client("forks");
        await BindAsync(h, "forks", forks, access: a => a.Untrusted = true);

        // The fork's job drops its certificate and names the main project's image.
        var anonymous = await Buildx(h, certificate: null, ClientTlsStyle.Buildx).BuildAsync(new FakeBuildxOptions { Bootstrap = false, ExporterImage = "reg.test/main-app:pr-7" });

        Assert.False(anonymous.Succeeded, anonymous.ToString());
        Assert.Equal(StatusCode.Unavailable, anonymous.Status);
        Assert.Contains("without a certificate", anonymous.Message, StringComparison.Ordinal);
        Assert.Empty(h.Fleet.CallsOf(anonymous.Ref));
        Assert.DoesNotContain(h.Fleet[Volume].Builds.Calls, c => c.SessionId == anonymous.SessionId);
    }

    [Fact]
    public async Task Under_tls_an_authority_naming_another_host_than_the_server_name_is_refused_with_permission_denied()
    {
        var (server, certPath, keyPath) = _pki.IssueServer("gateway-wildcard", "*.builds.test");
        server.Dispose();
        await using var h = await StartAsync(o => o with { TlsCertificatePath = certPath, TlsKeyPath = keyPath }, pool: p => p.Routing.Domain = "builds.test");
        using var alpha = Client("alpha");
        await BindAsync(h, "alpha", alpha);
        var buildx = FakeBuildxClient.For(h.Gateway.Address, new Http2TlsOptions { TrustedRoots = [_pki.Ca], ClientCertificates = [alpha], ServerName = "alpha-app.builds.test" });

        var matching = await buildx.BuildAsync(new FakeBuildxOptions { Bootstrap = false, Authority = "alpha-app.builds.test:1234" });
        var forged = await buildx.BuildAsync(new FakeBuildxOptions { Bootstrap = false, Authority = "beta-app.builds.test" });

        Assert.True(matching.Succeeded, matching.ToString());
        Assert.Equal(StatusCode.PermissionDenied, forged.Status);
        Assert.Contains(":authority beta-app.builds.test does not match the TLS server name alpha-app.builds.test", forged.Message, StringComparison.Ordinal);
        Assert.Empty(h.Fleet.CallsOf(forged.Ref));
    }

    [Fact]
    public async Task A_tenants_prune_disk_usage_and_history_never_reach_a_builder_that_serves_another_tenant()
    {
        await using var h = await StartAsync();
        using var alpha = Client("alpha");
        using var beta = Client("beta");
        await BindAsync(h, "alpha", alpha);
        await BindAsync(h, "beta", beta);
        var betas = await Buildx(h, beta, ClientTlsStyle.Buildx).BuildAsync(new FakeBuildxOptions { Bootstrap = false });
        Assert.True(betas.Succeeded, betas.ToString());
        h.Fleet[Volume].Daemon.AddRecord("beta-layer", 1024, "regular", "beta's cache");
        using var channel = Channel(h, alpha, out _);
        var control = new Control.ControlClient(channel);

        // docker buildx prune -af, docker buildx du, docker buildx history ls.
        var prune = await Assert.ThrowsAsync<RpcException>(async () => await Drain(control.Prune(new PruneRequest { All = true }, deadline: DateTime.UtcNow.AddSeconds(10)).ResponseStream));
        var usage = await Assert.ThrowsAsync<RpcException>(async () => await control.DiskUsageAsync(new DiskUsageRequest(), deadline: DateTime.UtcNow.AddSeconds(10)));
        var history = await Assert.ThrowsAsync<RpcException>(async () => await Drain(control.ListenBuildHistory(new BuildHistoryRequest(), deadline: DateTime.UtcNow.AddSeconds(10)).ResponseStream));

        Assert.All([prune, usage, history], e => Assert.Equal(StatusCode.PermissionDenied, e.StatusCode));
        Assert.Contains($"Prune refused for tenant {PoolGatewayHarness.Ns}/alpha: no builder holds only this tenant's keys", prune.Status.Detail, StringComparison.Ordinal);
        Assert.Empty(h.Fleet[Volume].Daemon.PruneRequests);
        Assert.True(h.Fleet[Volume].Daemon.Records.ContainsKey("beta-layer"));
        Assert.DoesNotContain(h.Fleet[Volume].Daemon.Calls, c => c is "Prune" or "DiskUsage" or "ListenBuildHistory");
    }

    [Fact]
    public async Task A_tenants_prune_reaches_the_volume_that_holds_only_its_own_keys()
    {
        await using var h = await StartAsync(volumes: ["alpha-own", Volume], pinned: new Dictionary<string, string[]> { ["alpha-own"] = ["alpha@app"] });
        using var alpha = Client("alpha");
        await BindAsync(h, "alpha", alpha);
        h.Fleet["alpha-own"].Daemon.AddRecord("alpha-layer", 1024, "regular", "alpha's cache");
        h.Fleet[Volume].Daemon.AddRecord("shared-layer", 1024, "regular", "everyone's cache");
        using var channel = Channel(h, alpha, out _);

        await Drain(new Control.ControlClient(channel).Prune(new PruneRequest { All = true }).ResponseStream).Within();

        Assert.Single(h.Fleet["alpha-own"].Daemon.PruneRequests);
        Assert.False(h.Fleet["alpha-own"].Daemon.Records.ContainsKey("alpha-layer"));
        Assert.Empty(h.Fleet[Volume].Daemon.PruneRequests);
        Assert.True(h.Fleet[Volume].Daemon.Records.ContainsKey("shared-layer"));
    }

    [Fact]
    public async Task Another_tenant_naming_a_running_builds_ref_is_refused_and_the_build_completes()
    {
        await using var h = await StartAsync();
        h.Fleet.Configure(b => b.HoldSolves = true);
        using var alpha = Client("alpha");
        using var beta = Client("beta");
        await BindAsync(h, "alpha", alpha);
        await BindAsync(h, "beta", beta);
        using var betaChannel = Channel(h, beta, out _);
        using var alphaChannel = Channel(h, alpha, out _);
        var betaControl = new Control.ControlClient(betaChannel);
        var alphaControl = new Control.ControlClient(alphaChannel);
        using var betaSolve = betaControl.SolveAsync(new SolveRequest { Ref = "r-beta" });
        await h.Fleet[Volume].Builds.WaitForRunningAsync("r-beta");

        var status = await Assert.ThrowsAsync<RpcException>(async () => await Drain(alphaControl.Status(new StatusRequest { Ref = "r-beta" }, deadline: DateTime.UtcNow.AddSeconds(5)).ResponseStream));
        var solve = await Assert.ThrowsAsync<RpcException>(async () => await alphaControl.SolveAsync(new SolveRequest { Ref = "r-beta" }, deadline: DateTime.UtcNow.AddSeconds(5)));

        Assert.Equal(StatusCode.PermissionDenied, status.StatusCode);
        Assert.Equal("build r-beta belongs to another tenant's build; a build's calls must come from the tenant that started it", status.Status.Detail);
        Assert.Equal(StatusCode.PermissionDenied, solve.StatusCode);
        Assert.Equal(status.Status.Detail, solve.Status.Detail);
        Assert.DoesNotContain(h.Fleet[Volume].Builds.Calls, c => c.Method == "Status");
        Assert.Single(h.Fleet[Volume].Builds.Solves, s => s.Ref == "r-beta");
        h.Fleet[Volume].Builds.Release("r-beta");
        Assert.Equal(Volume, (await betaSolve.ResponseAsync.Within()).ExporterResponse["x-fake-builder"]);
    }

    [Fact]
    public async Task Another_tenant_joining_a_running_builds_session_or_frontend_calls_is_refused_and_the_build_completes()
    {
        await using var h = await StartAsync();
        h.Fleet.Configure(b => b.HoldSolves = true);
        using var alpha = Client("alpha");
        using var beta = Client("beta");
        await BindAsync(h, "alpha", alpha);
        await BindAsync(h, "beta", beta);
        using var alphaChannel = Channel(h, alpha, out _);
        var betaBuild = Buildx(h, beta, ClientTlsStyle.Buildx).BuildAsync(new FakeBuildxOptions { Bootstrap = false, Ref = "r-beta", SessionId = "s-beta" });
        await h.Fleet[Volume].Builds.WaitForRunningAsync("r-beta");
        // Beta's session is up (its Solve waits for it); no second one may reach the builder.
        var sessionCalls = h.Fleet[Volume].Builds.Calls.Count(c => c.Method == "Session");

        // The session stream is where the builder reads the build's files and secrets from.
        using var session = new Control.ControlClient(alphaChannel).Session(new Metadata { { "x-docker-expose-session-uuid", "s-beta" } }, DateTime.UtcNow.AddSeconds(5));
        var sessionRefused = await Assert.ThrowsAsync<RpcException>(() => session.ResponseStream.MoveNext(CancellationToken.None));
        // Frontend calls carry the build's ref; buildx's own frontend drives the build through them.
        var bridgeRefused = await Assert.ThrowsAsync<RpcException>(async () => await new LLBBridge.LLBBridgeClient(alphaChannel)
            .PingAsync(new BuildPool.TestDoubles.Protocol.Frontend.PingRequest(), new Metadata { { "buildkit-controlapi-buildid", "r-beta" } }, DateTime.UtcNow.AddSeconds(5)));

        Assert.Equal(StatusCode.PermissionDenied, sessionRefused.StatusCode);
        Assert.Equal("session s-beta belongs to another tenant's build; a build's calls must come from the tenant that started it", sessionRefused.Status.Detail);
        Assert.Equal(StatusCode.PermissionDenied, bridgeRefused.StatusCode);
        Assert.Equal("build r-beta belongs to another tenant's build; a build's calls must come from the tenant that started it", bridgeRefused.Status.Detail);
        Assert.Equal(sessionCalls, h.Fleet[Volume].Builds.Calls.Count(c => c.Method == "Session"));
        h.Fleet[Volume].Builds.Release("r-beta");
        var betaResult = await betaBuild.Within();
        Assert.True(betaResult.Succeeded, betaResult.ToString());
        Assert.Equal(Volume, betaResult.Builder);
    }

    // Keys from what a build names (image, context directory), not from the certificate.
    private static void ImageKeys(BuilderPoolSpec pool) => pool.Routing.KeySources = [RoutingKeySource.ImageName, RoutingKeySource.SessionDirectory];

    private static async Task Drain<T>(IAsyncStreamReader<T> stream)
    {
        while (await stream.MoveNext(CancellationToken.None))
        {
        }
    }

    private Task<PoolGatewayHarness> StartAsync(
        Func<GatewayOptions, GatewayOptions>? configure = null,
        Action<BuilderPoolSpec>? pool = null,
        TimeProvider? time = null,
        IReadOnlyList<string>? volumes = null,
        IReadOnlyDictionary<string, string[]>? pinned = null) =>
        PoolGatewayHarness.StartAsync(
            volumes ?? [Volume],
            pool: pool,
            volume: (name, spec) =>
            {
                spec.Keys = pinned?.GetValueOrDefault(name) ?? spec.Keys;
                return spec;
            },
            time: time,
            gateway: o =>
            {
                var tls = o with { TlsCertificatePath = _serverCert, TlsKeyPath = _serverKey, ClientCaPath = _pki.CaPath };
                return configure?.Invoke(tls) ?? tls;
            });

    private FakeBuildxClient Buildx(PoolGatewayHarness h, X509Certificate2? certificate, ClientTlsStyle style) =>
        FakeBuildxClient.For(h.Gateway.Address, new Http2TlsOptions { TrustedRoots = [_pki.Ca], ClientCertificates = certificate is null ? null : [certificate] }, style);

    private X509Certificate2 Client(string binding, TestPki? ca = null) =>
        (ca ?? _pki).IssueClient($"client-{binding}-{Guid.NewGuid():N}", $"{TenantNamespace}/{binding}").Certificate;

    // Plays the operator: a ClientAccess binding whose status names the issued certificate's serial.
    private static async Task<TenantInfo> BindAsync(
        PoolGatewayHarness h, string name, X509Certificate2 certificate, int? maxConcurrentBuilds = null, Action<SecretBindingStatus>? status = null, Action<ClientAccessBinding>? access = null)
    {
        var bindings = new ResourceClient<SecretBinding>(h.Transport);
        var created = await bindings.CreateAsync(new SecretBinding
        {
            Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = PoolGatewayHarness.Ns },
            Spec = new SecretBindingSpec
            {
                Kind = SecretBindingKind.ClientAccess,
                Pool = PoolGatewayHarness.PoolName,
                ClientAccess = Access(new ClientAccessBinding { TargetNamespace = TenantNamespace, MaxConcurrentBuilds = maxConcurrentBuilds }, access),
            },
        });
        created.Status = new SecretBindingStatus { CertificateSerialNumber = certificate.SerialNumber, IssuedSecret = $"{TenantNamespace}/buildpool-client" };
        status?.Invoke(created.Status);
        await bindings.ReplaceStatusAsync(created);
        TenantInfo? tenant = null;
        await Eventually.TrueAsync(() => (tenant = h.Discovery.Tenants.Directory.Find(certificate.SerialNumber)) is not null, $"the gateway knows binding {name}");
        return tenant!;
    }

    private static ClientAccessBinding Access(ClientAccessBinding access, Action<ClientAccessBinding>? change)
    {
        change?.Invoke(access);
        return access;
    }

    // One HTTP/2 connection per channel (SocketsHttpHandler multiplexes calls on it); connects counts the TCP connects.
    private GrpcChannel Channel(PoolGatewayHarness h, X509Certificate2? certificate, out StrongBox connects)
    {
        var counter = new StrongBox();
        connects = counter;
        var handler = new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions
            {
                ClientCertificates = certificate is null ? null : [certificate],
                CertificateChainPolicy = new X509ChainPolicy
                {
                    TrustMode = X509ChainTrustMode.CustomRootTrust,
                    RevocationMode = X509RevocationMode.NoCheck,
                    CustomTrustStore = { _pki.Ca },
                },
            },
            ConnectCallback = async (context, cancellationToken) =>
            {
                Interlocked.Increment(ref counter.Value);
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
        return GrpcChannel.ForAddress($"https://127.0.0.1:{h.Gateway.EndPoint.Port}", new GrpcChannelOptions { HttpHandler = handler, DisposeHttpClient = true });
    }

    private sealed class StrongBox
    {
        public int Value;
    }
}
