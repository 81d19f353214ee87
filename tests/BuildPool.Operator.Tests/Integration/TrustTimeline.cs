using System.Security.Cryptography.X509Certificates;
using BuildPool.Operator.Security;
using BuildPool.Runtime.Client;
using BuildPool.TestDoubles;
using k8s.Models;

namespace BuildPool.Operator.Tests.Integration;

/// <summary>
/// Watches both sides of a pool's builder connections while it moves to the internal CA: the
/// builders' certificate and trust bundle (builder-tls) and the gateway's client certificate and
/// upstream bundle (the Secret its Deployment mounts), keeping every distinct state in order.
/// </summary>
internal sealed class TrustTimeline : IAsyncDisposable
{
    private const string Ns = "default";
    private readonly CancellationTokenSource _stop = new();
    private readonly List<TrustState> _states = [];
    private readonly Task _loop;

    private readonly OperatorHarness _h;

    private TrustTimeline(OperatorHarness h)
    {
        _h = h;
        _loop = Task.Run(() => RunAsync(h, _stop.Token));
    }

    public static TrustTimeline Start(OperatorHarness h) => new(h);

    public IReadOnlyList<TrustState> States => _states;

    /// <summary>
    /// Builders and gateway replicas from just before a change still run just after it: at every
    /// change, the old and the new builder state must each take the old and the new gateway
    /// state's client certificate, and the gateway must take their server certificates.
    /// </summary>
    public void AssertEveryChangeKeptBothSidesTalking()
    {
        for (var i = 1; i < _states.Count; i++)
        {
            foreach (var builder in new[] { _states[i - 1], _states[i] })
            {
                foreach (var gateway in new[] { _states[i - 1], _states[i] })
                {
                    Assert.True(Accepts(builder.BuilderTrust, gateway.GatewayClient, CertificateAuthority.ClientAuth),
                        $"change {i}: a builder trusting [{Names(builder.BuilderTrust)}] refuses the gateway's certificate from {gateway.GatewayClient.Issuer}");
                    Assert.True(Accepts(gateway.GatewayTrust, builder.BuilderServer, CertificateAuthority.ServerAuth),
                        $"change {i}: a gateway trusting [{Names(gateway.GatewayTrust)}] refuses the builder's certificate from {builder.BuilderServer.Issuer}");
                }
            }
        }
    }

    /// <summary>Stops sampling after one last sample: the state the pool ended in.</summary>
    public async Task StopAsync()
    {
        if (_stop.IsCancellationRequested)
        {
            return;
        }

        await _stop.CancelAsync();
        await _loop;
        await SampleAsync(_h, new ResourceClient<V1Secret>(_h.Kubernetes));
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _stop.Dispose();
    }

    private async Task RunAsync(OperatorHarness h, CancellationToken cancellationToken)
    {
        var secrets = new ResourceClient<V1Secret>(h.Kubernetes);
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await SampleAsync(h, secrets);

                // A sampling period: each state lasts at least a reconcile and a rollout.
                await Task.Delay(TimeSpan.FromMilliseconds(20), cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
        }
    }

    private async Task SampleAsync(OperatorHarness h, ResourceClient<V1Secret> secrets)
    {
        if (await ReadAsync(h, secrets) is { } state && (_states.Count == 0 || !_states[^1].Same(state)))
        {
            _states.Add(state);
        }
    }

    private static async Task<TrustState?> ReadAsync(OperatorHarness h, ResourceClient<V1Secret> secrets)
    {
        var builder = await secrets.GetAsync(Ns, "ci-builder-tls");
        var gateway = await h.Deployments.GetAsync(Ns, "ci-gateway");
        var upstreamName = PoolCertificates.GatewayUpstreamSecret(gateway);
        var upstream = upstreamName is null ? null : await secrets.GetAsync(Ns, upstreamName);
        if (builder is null || upstream is null)
        {
            return null;
        }

        return new TrustState(
            PoolTlsTests.Certificate(builder),
            BuilderTrustTests.Bundle(BuilderTrustTests.Text(builder, "ca.crt")),
            PoolTlsTests.Certificate(upstream),
            BuilderTrustTests.Bundle(BuilderTrustTests.Text(upstream, "ca.crt")));
    }

    // Go's crypto/tls: a chain to one of the roots and, where the leaf names usages, the one asked for.
    private static bool Accepts(X509Certificate2Collection roots, X509Certificate2 leaf, string usage)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(roots);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        var usages = PoolTlsTests.Usages(leaf);
        return chain.Build(leaf) && (usages.Count == 0 || usages.Contains(usage));
    }

    private static string Names(X509Certificate2Collection bundle) => string.Join(", ", bundle.Select(c => c.Subject));

    internal sealed record TrustState(X509Certificate2 BuilderServer, X509Certificate2Collection BuilderTrust, X509Certificate2 GatewayClient, X509Certificate2Collection GatewayTrust)
    {
        public bool Same(TrustState other) =>
            BuilderServer.Thumbprint == other.BuilderServer.Thumbprint
            && GatewayClient.Thumbprint == other.GatewayClient.Thumbprint
            && BuilderTrust.Select(c => c.Thumbprint).SequenceEqual(other.BuilderTrust.Select(c => c.Thumbprint))
            && GatewayTrust.Select(c => c.Thumbprint).SequenceEqual(other.GatewayTrust.Select(c => c.Thumbprint));
    }
}
