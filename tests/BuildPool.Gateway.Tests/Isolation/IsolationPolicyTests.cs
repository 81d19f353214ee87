using BuildPool.Api.V1Alpha1;
using BuildPool.Gateway.Discovery;
using BuildPool.Gateway.Isolation;
using k8s.Models;

namespace BuildPool.Gateway.Tests.Isolation;

public sealed class IsolationPolicyTests
{
    [Theory]
    [InlineData("pr-*", "pr-42", true)]
    [InlineData("pr-*", "pr-", true)]
    [InlineData("pr-*", "release-pr-42", false)]
    [InlineData("github.com/acme/*-fork", "github.com/acme/web-fork", true)]
    [InlineData("github.com/acme/*-fork", "github.com/acme/web-forked", false)]
    [InlineData("build-??", "build-12", true)]
    [InlineData("build-??", "build-123", false)]
    [InlineData("*", "", true)]
    [InlineData("a*b*c", "axxbyyc", true)]
    [InlineData("a*b*c", "axxbyy", false)]
    [InlineData("Pr-*", "pr-1", false)]
    public void Glob_patterns_match_whole_keys(string pattern, string key, bool matches) =>
        Assert.Equal(matches, new GlobPattern(pattern).IsMatch(key));

    [Fact]
    public void A_build_is_untrusted_by_its_key_or_by_its_client_identity_and_says_which()
    {
        var policy = new IsolationPolicy(["pr-*"], new StaticUntrustedIdentities(["fork-ci-*"]));

        Assert.Contains("pr-*", policy.UntrustedBecause("pr-7", "main-ci"), StringComparison.Ordinal);
        Assert.Contains("fork-ci-3", policy.UntrustedBecause("app", "fork-ci-3"), StringComparison.Ordinal);
        Assert.Null(policy.UntrustedBecause("app", "main-ci"));
        Assert.Null(new IsolationPolicy(["pr-*"]).UntrustedBecause(null, null));
    }

    [Fact]
    public void A_client_without_a_certificate_is_untrusted_while_some_identity_is_untrusted()
    {
        var policy = new IsolationPolicy(identities: new StaticUntrustedIdentities(["fork-ci-*"]));

        Assert.Contains("without a certificate", policy.UntrustedBecause("app", identity: null), StringComparison.Ordinal);
        Assert.Null(policy.UntrustedBecause("app", "main-ci"));
        Assert.Null(new IsolationPolicy(identities: new StaticUntrustedIdentities([])).UntrustedBecause("app", identity: null));
    }

    [Fact]
    public void A_tenant_whose_client_access_binding_is_untrusted_builds_isolated_whatever_its_key()
    {
        var policy = new IsolationPolicy();
        var untrusted = new Gateway.Tenants.TenantInfo("forks/pr-bot", "0A") { Binding = "forks/pr-bot", Untrusted = true };
        var trusted = new Gateway.Tenants.TenantInfo("team/ci", "0B") { Binding = "team/ci" };

        Assert.Contains("forks/pr-bot", policy.UntrustedBecause("app", "forks/pr-bot", untrusted), StringComparison.Ordinal);
        Assert.Null(policy.UntrustedBecause("app", "team/ci", trusted));
    }

    [Fact]
    public void Untrusted_key_patterns_swap_live_when_the_pool_changes()
    {
        var policy = new IsolationPolicy();
        Assert.True(policy.IsEmpty);

        policy.SetUntrustedKeys(["pr-*"]);

        Assert.False(policy.IsEmpty);
        Assert.NotNull(policy.UntrustedBecause("pr-1", null));
        policy.SetUntrustedKeys([]);
        Assert.Null(policy.UntrustedBecause("pr-1", null));
    }

    [Fact]
    public void A_fork_volume_becomes_a_backend_off_the_ring_that_names_its_base_and_an_isolated_one_has_a_single_slot()
    {
        var settings = new PoolSettings { MaxConcurrentBuilds = 4, Sharing = CacheSharing.Private };
        CacheVolume Volume(string name, Dictionary<string, string>? labels) => new()
        {
            Metadata = new V1ObjectMeta
            {
                Name = name,
                NamespaceProperty = "ci",
                Labels = labels,
                // As the operator makes them: the base controls its forks.
                OwnerReferences = labels is null ? null : [new V1OwnerReference { ApiVersion = "buildpool.dev/v1alpha1", Kind = CacheVolume.KubeKind, Name = "pool-0", Uid = "u", Controller = true }],
            },
            Spec = new CacheVolumeSpec { Pool = "pool" },
            Status = new CacheVolumeStatus { Phase = CacheVolumePhase.Ready, Endpoint = $"tcp://{name}:1234" },
        };

        var baseVolume = CacheVolumeBackends.ToBackend(Volume("pool-0", null), settings)!;
        var overflow = CacheVolumeBackends.ToBackend(Volume("pool-0-f0", new() { [LifecycleAnnotations.ForkOfLabel] = "pool-0" }), settings)!;
        var isolated = CacheVolumeBackends.ToBackend(Volume("pool-0-iab12", new() { [LifecycleAnnotations.ForkOfLabel] = "pool-0", [LifecycleAnnotations.IsolatedForLabel] = "ab12" }), settings)!;

        Assert.True(baseVolume.ForksOnOverflow);
        Assert.Null(baseVolume.ForkOf);
        Assert.Equal(("pool-0", false, 4, false), (overflow.ForkOf, overflow.AcceptsHashedKeys, overflow.MaxConcurrentBuilds, overflow.ForksOnOverflow));
        Assert.Equal(("pool-0", "ab12", 1), (isolated.ForkOf, isolated.IsolatedFor, isolated.MaxConcurrentBuilds));
        Assert.Empty(overflow.Keys);
    }

    [Fact]
    public void Keyless_calls_never_land_on_a_fork()
    {
        var placement = new global::BuildPool.Gateway.Routing.Placement(new global::BuildPool.Gateway.Routing.PlacementOptions());
        placement.Update([new global::BuildPool.Gateway.Routing.Backend("pool-0-f0") { ForkOf = "pool-0", AcceptsHashedKeys = false }, new global::BuildPool.Gateway.Routing.Backend("pool-0")]);

        for (var i = 0; i < 20; i++)
        {
            Assert.Equal("pool-0", placement.PlaceAny().Backend!.Id);
            Assert.Equal("pool-0", placement.Place($"key-{i}").Backend!.Id);
        }
    }
}
