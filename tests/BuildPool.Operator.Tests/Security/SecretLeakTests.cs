using System.Text;
using BuildPool.Api.V1Alpha1;
using BuildPool.Operator.Tests.Integration;
using BuildPool.Runtime.Client;
using k8s;
using k8s.Models;

namespace BuildPool.Operator.Tests.Security;

/// <summary>
/// Runs the flows that handle private keys and credentials (managed PKI, client certificates,
/// bound cache credentials and registry key pairs, renewal, revocation), then looks for every
/// secret value in everything people and tools read: the operator's log, Events, status, and
/// the ConfigMaps it renders.
/// </summary>
public sealed class SecretLeakTests
{
    private const string Ns = "default";

    [Fact]
    public async Task No_private_key_or_secret_value_appears_in_logs_events_status_or_config_maps()
    {
        var logs = new CapturedLogs();
        await using var h = await OperatorHarness.StartAsync(logging: logs);
        var secrets = new ResourceClient<V1Secret>(h.Kubernetes);
        var bindings = new ResourceClient<SecretBinding>(h.Kubernetes);
        await SecretBindingTests.CreateTenantNamespaceAsync(h);

        await secrets.CreateAsync(new V1Secret
        {
            Metadata = new V1ObjectMeta { Name = "s3-creds", NamespaceProperty = Ns },
            Data = new Dictionary<string, byte[]> { ["AWS_ACCESS_KEY_ID"] = "AKIAEXAMPLELEAKCHECK"u8.ToArray(), ["AWS_SECRET_ACCESS_KEY"] = "wJalrXUtnFEMI/K7MDENG/leak-check-value"u8.ToArray() },
        });
        using var registryCa = CertificateFixtures.Ca("registry issuer");
        var registryClient = CertificateFixtures.Server(registryCa, "client.registry.internal");
        await secrets.CreateAsync(new V1Secret
        {
            Metadata = new V1ObjectMeta { Name = "reg-client", NamespaceProperty = Ns },
            Type = "kubernetes.io/tls",
            Data = new Dictionary<string, byte[]> { ["tls.crt"] = Encoding.UTF8.GetBytes(registryClient.CertificatePem), ["tls.key"] = Encoding.UTF8.GetBytes(registryClient.PrivateKeyPem) },
        });
        await bindings.CreateAsync(new SecretBinding
        {
            Metadata = new V1ObjectMeta { Name = "s3", NamespaceProperty = Ns },
            Spec = new SecretBindingSpec { Kind = SecretBindingKind.CacheBackendCredentials, Pool = "ci", CacheBackendCredentials = new CacheBackendCredentialsBinding { SecretName = "s3-creds" } },
        });
        await bindings.CreateAsync(new SecretBinding
        {
            Metadata = new V1ObjectMeta { Name = "registry", NamespaceProperty = Ns },
            Spec = new SecretBindingSpec
            {
                Kind = SecretBindingKind.RegistryTls,
                Pool = "ci",
                RegistryTls = new RegistryTlsBinding { Registry = "registry.internal", ClientKeyPairSecretRef = new SecretReference { Name = "reg-client" } },
            },
        });
        await h.Pools.CreateAsync(PoolTlsTests.Pool("ci", TlsMode.Managed, domain: "build.example.test", volumes: 2, warm: 1));
        await bindings.CreateAsync(SecretBindingTests.ClientAccess("team-a-ci", "ci"));
        await bindings.CreateAsync(SecretBindingTests.ClientAccess("orphan", "nowhere"));
        await SecretBindingTests.WaitIssuedAsync(h, "team-a-ci");
        await h.WaitForReadyPoolAsync(Ns, "ci");

        // Rotate a bound Secret and revoke the client certificate, so those paths log too.
        var rotated = (await secrets.GetAsync(Ns, "s3-creds"))!;
        rotated.Data["AWS_SECRET_ACCESS_KEY"] = "second/leak-check-value-rotated"u8.ToArray();
        await secrets.ReplaceAsync(rotated);
        var issued = (await secrets.GetAsync("team-a", "ci-client"))!;
        await bindings.DeleteAsync(Ns, "team-a-ci");
        await h.WaitAsync(() => bindings.GetAsync(Ns, "team-a-ci"), b => b is null, "the binding to go");
        await h.WaitAsync(async () =>
        {
            await h.SimulateReadyDeploymentsAsync(Ns);
            return await h.Deployments.ListAsync(Ns);
        }, d => d.Where(x => x.Spec.Template.Metadata.Annotations?.ContainsKey(Operator.Bindings.BuilderCredentials.DigestAnnotation) == true)
                 .Select(x => x.Spec.Template.Metadata.Annotations[Operator.Bindings.BuilderCredentials.DigestAnnotation]).Distinct().Count() == 1, "the builders to settle on the rotated Secret");

        var secretValues = (await secrets.ListAsync())
            .Append(issued)
            .Append(rotated)
            .SelectMany(s => s.Data?.Values ?? [])
            .SelectMany(Needles)
            .Distinct(StringComparer.Ordinal)
            .ToList();
        // The value before rotation, which the builders had until they restarted.
        secretValues.AddRange(Needles("wJalrXUtnFEMI/K7MDENG/leak-check-value"u8.ToArray()));
        Assert.Contains(secretValues, v => v.Contains("leak-check-value", StringComparison.Ordinal));
        Assert.Contains(secretValues, v => v.Length > 40 && !v.Contains(' ', StringComparison.Ordinal));

        var haystacks = new List<(string Where, string Text)>();
        haystacks.AddRange(logs.Lines.Select(l => ("log", l)));
        Assert.NotEmpty(logs.Lines);
        haystacks.AddRange((await new ResourceClient<Corev1Event>(h.Kubernetes).ListAsync()).Select(e => ($"event {e.Reason}", KubernetesJson.Serialize(e))));
        haystacks.AddRange((await h.Pools.ListAsync()).Select(p => ($"pool {p.Metadata.Name} status", KubernetesJson.Serialize(p.Status))));
        haystacks.AddRange((await h.Volumes.ListAsync()).Select(v => ($"volume {v.Metadata.Name} status", KubernetesJson.Serialize(v.Status))));
        haystacks.AddRange((await bindings.ListAsync()).Select(b => ($"binding {b.Metadata.Name} status", KubernetesJson.Serialize(b.Status))));
        haystacks.AddRange((await new ResourceClient<V1ConfigMap>(h.Kubernetes).ListAsync()).Select(c => ($"configmap {c.Metadata.Name}", KubernetesJson.Serialize(c))));
        haystacks.AddRange((await h.Deployments.ListAsync()).Select(d => ($"deployment {d.Metadata.Name}", KubernetesJson.Serialize(d))));

        var leaks = (from needle in secretValues
                     from hay in haystacks
                     where hay.Text.Contains(needle, StringComparison.Ordinal)
                     select $"{hay.Where} contains a secret value starting {needle[..6]}").Distinct().ToList();
        Assert.True(leaks.Count == 0, string.Join("\n", leaks));
    }

    /// <summary>
    /// What would give a secret away: the value itself and its base64, and for PEM private keys
    /// each body line (a log that wraps or trims a PEM still leaks its lines). Certificates are
    /// public and left out.
    /// </summary>
    private static IEnumerable<string> Needles(byte[] value)
    {
        var text = Encoding.UTF8.GetString(value);
        if (text.Contains("-----BEGIN CERTIFICATE-----", StringComparison.Ordinal) && !text.Contains("PRIVATE KEY", StringComparison.Ordinal))
        {
            yield break;
        }

        if (text.Contains("PRIVATE KEY-----", StringComparison.Ordinal))
        {
            foreach (var line in text.Split('\n').Select(l => l.Trim()).Where(l => l.Length >= 16 && !l.StartsWith("-----", StringComparison.Ordinal)))
            {
                yield return line;
            }

            yield break;
        }

        if (text.Length >= 8)
        {
            yield return text;
            yield return Convert.ToBase64String(value);
        }
    }
}
