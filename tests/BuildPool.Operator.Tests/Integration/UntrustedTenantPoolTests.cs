using BuildPool.Api.V1Alpha1;
using BuildPool.Runtime.Client;
using k8s.Models;

namespace BuildPool.Operator.Tests.Integration;

/// <summary>
/// Untrusted tenants are told apart by their certificates: a pool that also lets clients build
/// without one cannot keep them apart, and says so.
/// </summary>
public sealed class UntrustedTenantPoolTests
{
    private const string Ns = "default";

    [Fact]
    public async Task A_pool_admitting_clients_without_a_certificate_and_binding_an_untrusted_tenant_is_stalled_saying_why_until_certificates_are_required()
    {
        await using var h = await OperatorHarness.StartAsync();
        var pool = PoolTlsTests.Pool("ci", TlsMode.Managed);
        pool.Spec.Endpoint.Tls.RequireClientCertificate = false;
        await h.Pools.CreateAsync(pool);
        await new ResourceClient<SecretBinding>(h.Kubernetes).CreateAsync(new SecretBinding
        {
            Metadata = new V1ObjectMeta { Name = "forks", NamespaceProperty = Ns },
            Spec = new SecretBindingSpec
            {
                Kind = SecretBindingKind.ClientAccess,
                Pool = "ci",
                ClientAccess = new ClientAccessBinding { TargetNamespace = Ns, Untrusted = true },
            },
        });

        var stalled = await h.WaitAsync(() => h.Pools.GetAsync(Ns, "ci"), IsStalled, "the pool to be Stalled");

        var condition = stalled!.Status.Conditions.Single(c => c.Type == "Stalled");
        Assert.Equal("AnonymousWithUntrusted", condition.Reason);
        Assert.StartsWith($"SecretBinding {Ns}/forks (clientAccess.untrusted) cannot be enforced while clients without a certificate may build (spec.endpoint.tls.requireClientCertificate is false)", condition.Message, StringComparison.Ordinal);
        // The gateway stays in place: it treats builds without a certificate as untrusted meanwhile.
        Assert.NotNull(await h.Deployments.GetAsync(Ns, "ci-gateway"));

        // A merge patch, as kubectl would send: the operator writes the pool's status meanwhile.
        await h.Pools.PatchAsync(Ns, "ci", new { spec = new { endpoint = new { tls = new { requireClientCertificate = true } } } });
        await h.WaitAsync(() => h.Pools.GetAsync(Ns, "ci"), p => p is not null && p.Status.ObservedGeneration == p.Metadata.Generation && !IsStalled(p), "the pool to be no longer Stalled");
    }

    private static bool IsStalled(BuilderPool? pool) => pool?.Status.Conditions.Any(c => c.Type == "Stalled" && c.Status == "True") == true;
}
