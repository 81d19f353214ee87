using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using BuildPool.Operator.Tests.Integration;
using BuildPool.TestDoubles;
using Xunit.Abstractions;

namespace BuildPool.Operator.Tests.Reliability;

/// <summary>
/// Every bad input gets a clear answer that names the field: the API server's schema refuses it,
/// or the operator accepts it and sets <c>Stalled</c> with a message starting at the field path.
/// Resources are sent as raw JSON (so wrong types can be expressed) with <c>fieldValidation=Strict</c>,
/// as kubectl sends them, to the emulator loaded with the generated CRDs, with the operator running.
/// CEL rules (<c>x-kubernetes-validations</c>) are not emulated, so the rows that only CEL would
/// catch on a real cluster expect the operator's own validation instead.
/// </summary>
public sealed class BadInputTests(BadInputTests.Cluster cluster) : IClassFixture<BadInputTests.Cluster>
{
    private const string Ns = "default";

    private static readonly BadInput[] Table =
    [
        // BuilderPool, refused by the schema.
        Pool("A pool whose volume count is a word is rejected naming spec.assignment.volumes", """{"assignment":{"volumes":"four"}}""", "spec.assignment.volumes"),
        Pool("A pool with a negative volume count is rejected naming spec.assignment.volumes", """{"assignment":{"volumes":-1}}""", "spec.assignment.volumes"),
        Pool("A pool with a thousand volumes is rejected naming spec.assignment.volumes", """{"assignment":{"volumes":1000}}""", "spec.assignment.volumes"),
        Pool("A pool with an unknown assignment mode is rejected naming spec.assignment.mode", """{"assignment":{"mode":"Sharded"}}""", "spec.assignment.mode"),
        Pool("A pool with a negative volume size is rejected naming spec.cache.volume.size", """{"cache":{"volume":{"size":"-10Gi"}}}""", "spec.cache.volume.size"),
        Pool("A pool whose volume size is prose is rejected naming spec.cache.volume.size", """{"cache":{"volume":{"size":"ten gigs"}}}""", "spec.cache.volume.size"),
        Pool("A pool with an unknown reclaim policy is rejected naming spec.cache.reclaimPolicy", """{"cache":{"reclaimPolicy":"Keep"}}""", "spec.cache.reclaimPolicy"),
        Pool("A pool with an unknown security profile is rejected naming spec.builder.securityProfile", """{"builder":{"securityProfile":"Root"}}""", "spec.builder.securityProfile"),
        Pool("A pool with a two thousand character image is rejected naming spec.builder.image", $$$"""{"builder":{"image":"{{{new string('a', 2000)}}}"}}""", "spec.builder.image"),
        Pool("A pool with negative warm builders is rejected naming spec.scaling.warmBuilders", """{"scaling":{"warmBuilders":-1}}""", "spec.scaling.warmBuilders"),
        Pool("A pool whose idle timeout is prose is rejected naming spec.scaling.idleTimeout", """{"scaling":{"idleTimeout":"30 minutes"}}""", "spec.scaling.idleTimeout"),
        Pool("A pool with no key sources is rejected naming spec.routing.keySources", """{"routing":{"keySources":[]}}""", "spec.routing.keySources"),
        Pool("A pool with an unknown key source is rejected naming spec.routing.keySources[0]", """{"routing":{"keySources":["Header"]}}""", "spec.routing.keySources[0]"),
        Pool("A pool with a load factor below one is rejected naming spec.routing.boundedLoadFactor", """{"routing":{"boundedLoadFactor":0.5}}""", "spec.routing.boundedLoadFactor"),
        Pool("A pool with port 70000 is rejected naming spec.endpoint.port", """{"endpoint":{"port":70000}}""", "spec.endpoint.port"),
        Pool("A pool with an unknown Service type is rejected naming spec.endpoint.serviceType", """{"endpoint":{"serviceType":"Ingress"}}""", "spec.endpoint.serviceType"),
        Pool("A pool that may use 120 percent of its volume is rejected naming spec.cache.gc.maxUsedSpace", """{"cache":{"gc":{"maxUsedSpace":"120%"}}}""", "spec.cache.gc.maxUsedSpace"),
        Pool("A pool with seventeen platforms is rejected naming spec.builder.platforms", $$$"""{"builder":{"platforms":[{{{string.Join(",", Enumerable.Range(0, 17).Select(i => $"\"linux/arch{i}\""))}}}]}}""", "spec.builder.platforms"),
        Pool("A pool with the unknown field imagePullPolicy is rejected naming spec.builder.imagePullPolicy", """{"builder":{"imagePullPolicy":"Always"}}""", "spec.builder.imagePullPolicy", status: 400),
        Pool("A pool with a cache target without a name is rejected naming spec.cacheTargets[0].name", """{"cacheTargets":[{"inject":true}]}""", "spec.cacheTargets[0].name"),
        Pool("A pool allowing zero concurrent builds is rejected naming spec.builder.maxConcurrentBuilds", """{"builder":{"maxConcurrentBuilds":0}}""", "spec.builder.maxConcurrentBuilds"),
        Pool("A pool whose registry host is a URL is rejected naming spec.builder.registries[0].host", """{"builder":{"registries":[{"host":"https://registry.example.com"}]}}""", "spec.builder.registries[0].host"),
        Pool("A pool whose TLS requirement is a string is rejected naming spec.endpoint.tls.requireClientCertificate", """{"endpoint":{"tls":{"requireClientCertificate":"yes"}}}""", "spec.endpoint.tls.requireClientCertificate"),

        // BuilderPool, refused by the CRD's CEL rules (x-kubernetes-validations): a GitOps sync fails at apply time.
        Pool("A pool with more warm builders than volumes is rejected naming spec.scaling.warmBuilders", """{"assignment":{"volumes":2},"scaling":{"warmBuilders":3}}""", "spec.scaling.warmBuilders"),
        Pool("A dedicated pool with more warm builders than maxVolumes is rejected naming spec.scaling.warmBuilders", """{"assignment":{"mode":"Dedicated","volumes":1,"maxVolumes":2},"scaling":{"warmBuilders":5}}""", "spec.scaling.warmBuilders"),
        Pool("A pool naming a key source twice is rejected naming spec.routing.keySources", """{"routing":{"keySources":["ImageName","ImageName"]}}""", "spec.routing.keySources"),
        Pool("A pool with TLS from a Secret but no Secret name is rejected naming spec.endpoint.tls.secretName", """{"endpoint":{"tls":{"mode":"FromSecret"}}}""", "spec.endpoint.tls.secretName"),

        // BuilderPool, accepted and then Stalled by the operator.
        Pool("A hashed pool with maxVolumes below volumes is stalled naming spec.assignment.maxVolumes", """{"assignment":{"volumes":4,"maxVolumes":2},"scaling":{"warmBuilders":1}}""", "spec.assignment.maxVolumes", BadInput.Answer.Stalled),
        Pool("A pool with TLS from a Secret that does not exist is stalled naming spec.endpoint.tls.secretName", """{"endpoint":{"tls":{"mode":"FromSecret","secretName":"no-such-tls"}}}""", "spec.endpoint.tls.secretName", BadInput.Answer.Stalled),
        Pool("A pool trusting a registry CA Secret that does not exist is stalled naming spec.builder.registries[0].caSecretRef", """{"builder":{"registries":[{"host":"mirror.internal:5000","caSecretRef":{"name":"no-such-ca"}}]}}""", "spec.builder.registries[0].caSecretRef", BadInput.Answer.Stalled),
        Pool("A pool using a registry key pair Secret that does not exist is stalled naming spec.builder.registries[0].clientKeyPairSecretRef", """{"builder":{"registries":[{"host":"mirror.internal","clientKeyPairSecretRef":{"name":"no-such-pair"}}]}}""", "spec.builder.registries[0].clientKeyPairSecretRef", BadInput.Answer.Stalled),
        Pool("A pool with zero-sized volumes is stalled naming spec.cache.volume.size", """{"cache":{"volume":{"size":"0"}}}""", "spec.cache.volume.size", BadInput.Answer.Stalled),
        Pool("A pool with volumes of 1e400 bytes is stalled naming spec.cache.volume.size", """{"cache":{"volume":{"size":"1e400"}}}""", "spec.cache.volume.size", BadInput.Answer.Stalled),
        Pool("A pool whose idle timeout overflows is stalled naming spec.scaling.idleTimeout", """{"scaling":{"idleTimeout":"99999999999999h"}}""", "spec.scaling.idleTimeout", BadInput.Answer.Stalled),
        Pool("A pool whose GC may use more than its volume is stalled naming spec.cache.gc.maxUsedSpace", """{"cache":{"volume":{"size":"10Gi"},"gc":{"maxUsedSpace":"200Gi"}}}""", "spec.cache.gc.maxUsedSpace", BadInput.Answer.Stalled),
        Pool("A pool that may auto-grow only below its size is stalled naming spec.cache.autoGrow.maxSize", """{"cache":{"volume":{"size":"10Gi"},"autoGrow":{"maxSize":"5Gi"}}}""", "spec.cache.autoGrow.maxSize", BadInput.Answer.Stalled),
        new("A pool with a sixty character name is stalled naming metadata.name", "builderpools",
            Resource("BuilderPool", """{"assignment":{"volumes":1}}""").Replace("NAME", new string('p', 60), StringComparison.Ordinal),
            "metadata.name", BadInput.Answer.Stalled),

        // CacheVolume.
        Volume("A volume without a pool is rejected naming spec.pool", """{"size":"1Gi"}""", "spec.pool"),
        Volume("A volume with an unknown sharing mode is rejected naming spec.sharing", """{"pool":"host","sharing":"Exclusive"}""", "spec.sharing"),
        Volume("A volume whose size is prose is rejected naming spec.size", """{"pool":"host","size":"lots"}""", "spec.size"),
        Volume("A volume pinning sixty-five keys is rejected naming spec.keys", $$"""{"pool":"host","keys":[{{string.Join(",", Enumerable.Range(0, 65).Select(i => $"\"key{i}\""))}}]}""", "spec.keys"),
        Volume("A volume pinning the same key twice is rejected naming spec.keys[1]", """{"pool":"host","keys":["web","web"]}""", "spec.keys[1]"),
        Volume("A volume whose pool name is not a DNS name is rejected naming spec.pool", """{"pool":"Not_A_Name"}""", "spec.pool"),
        Volume("A volume whose idle deletion time is prose is rejected naming spec.retention.deleteAfterIdle", """{"pool":"host","retention":{"deleteAfterIdle":"7 days"}}""", "spec.retention.deleteAfterIdle"),
        Volume("A volume with the unknown field replicas is rejected naming spec.replicas", """{"pool":"host","replicas":2}""", "spec.replicas", status: 400),
        Volume("A volume seeded from a volume and a snapshot at once is rejected naming spec.cloneFrom", """{"pool":"host","cloneFrom":"host-0","cloneFromSnapshot":"snap"}""", "spec.cloneFrom"),
        Volume("A volume for a pool that does not exist is stalled naming spec.pool", """{"pool":"nowhere"}""", "spec.pool", BadInput.Answer.Stalled),
        Volume("A zero-sized volume of an existing pool is stalled naming spec.size", """{"pool":"host","size":"0"}""", "spec.size", BadInput.Answer.Stalled),

        // RegistryCacheTarget.
        Target("A cache target whose ref has no key placeholder is rejected naming spec.ref", """{"ref":"registry.example.com/cache:latest"}""", "spec.ref"),
        Target("A cache target without a ref is rejected naming spec.ref", """{"mode":"max"}""", "spec.ref"),
        Target("A cache target with an unknown mode is rejected naming spec.mode", """{"ref":"registry.example.com/cache:{key}","mode":"everything"}""", "spec.mode"),
        Target("A cache target with an unknown compression is rejected naming spec.compression", """{"ref":"registry.example.com/cache:{key}","compression":"lz4"}""", "spec.compression"),
        Target("A cache target with compression level thirty is rejected naming spec.compressionLevel", """{"ref":"registry.example.com/cache:{key}","compressionLevel":30}""", "spec.compressionLevel"),
        Target("A cache target keeping zero tags is rejected naming spec.retention.maxTags", """{"ref":"registry.example.com/cache:{key}","retention":{"maxTags":0}}""", "spec.retention.maxTags"),
        Target("A cache target writing image manifests with Docker media types is rejected naming spec.ociMediatypes", """{"ref":"registry.example.com/cache:{key}","imageManifest":true,"ociMediatypes":false}""", "spec.ociMediatypes"),
        Target("A cache target with gzip level fifteen is rejected naming spec.compressionLevel", """{"ref":"registry.example.com/cache:{key}","compression":"gzip","compressionLevel":15}""", "spec.compressionLevel"),

        // SecretBinding.
        Binding("A binding of an unknown kind is rejected naming spec.kind", """{"kind":"Token","pool":"host"}""", "spec.kind"),
        Binding("A binding without a pool is rejected naming spec.pool", """{"kind":"ClientAccess","clientAccess":{"targetNamespace":"team-a"}}""", "spec.pool"),
        Binding("A client access binding into an invalid namespace name is rejected naming spec.clientAccess.targetNamespace", """{"kind":"ClientAccess","pool":"host","clientAccess":{"targetNamespace":"Team_A"}}""", "spec.clientAccess.targetNamespace"),
        Binding("A client access binding valid for prose is rejected naming spec.clientAccess.validity", """{"kind":"ClientAccess","pool":"host","clientAccess":{"targetNamespace":"team-a","validity":"90 days"}}""", "spec.clientAccess.validity"),
        Binding("A credentials binding mounted at a relative path is rejected naming spec.cacheBackendCredentials.mountPath", """{"kind":"CacheBackendCredentials","pool":"host","cacheBackendCredentials":{"secretName":"s3","delivery":"Files","mountPath":"creds"}}""", "spec.cacheBackendCredentials.mountPath"),
        Binding("A registry TLS binding without a registry is rejected naming spec.registryTLS.registry", """{"kind":"RegistryTLS","pool":"host","registryTLS":{"caSecretRef":{"name":"ca"}}}""", "spec.registryTLS.registry"),
        Binding("A client access binding without its clientAccess section is rejected naming spec.clientAccess", """{"kind":"ClientAccess","pool":"host"}""", "spec.clientAccess"),
    ];

    public static TheoryData<Case> Cases() => new(Table.Select(row => new Case(row.Sentence)));

    [Fact]
    public void The_table_has_at_least_thirty_rows_across_all_four_kinds_and_both_answers()
    {
        Assert.True(Table.Length >= 30, $"{Table.Length} rows");
        Assert.Equal(["builderpools", "cachevolumes", "registrycachetargets", "secretbindings"], Table.Select(r => r.Plural).Distinct().Order(StringComparer.Ordinal));
        Assert.Equal([BadInput.Answer.Rejected, BadInput.Answer.Stalled], Table.Select(r => r.Expected).Distinct().Order());
        Assert.Equal(Table.Length, Table.Select(r => r.Sentence).Distinct(StringComparer.Ordinal).Count());
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Each_invalid_resource_is_rejected_or_stalled_naming_its_field(Case @case)
    {
        ArgumentNullException.ThrowIfNull(@case);
        var index = Array.FindIndex(Table, r => r.Sentence == @case.Sentence);
        var row = Table[index];
        var name = $"bad-{index:D2}";
        var json = row.Yaml.Replace("NAME", name, StringComparison.Ordinal);
        name = JsonNode.Parse(json)!["metadata"]!["name"]!.GetValue<string>();

        using var content = new StringContent(json, Encoding.UTF8, "application/json");
        using var response = await cluster.Http.PostAsync(new Uri($"apis/buildpool.dev/v1alpha1/namespaces/{Ns}/{row.Plural}?fieldValidation=Strict", UriKind.Relative), content);
        var body = await response.Content.ReadAsStringAsync();
        if (row.Expected == BadInput.Answer.Rejected)
        {
            Assert.True((int)response.StatusCode == row.Status, $"expected {row.Status}, got {(int)response.StatusCode}: {body}");
            Assert.Contains(row.Field, body, StringComparison.Ordinal);
            return;
        }

        Assert.True(response.StatusCode == HttpStatusCode.Created, $"the schema should accept it, got {(int)response.StatusCode}: {body}");
        // A volume can first stall on spec.pool while the operator's cache does not show the host
        // pool yet, and is reconciled again when it does: wait for the stall naming this row's field.
        var stalled = await Eventually.WaitAsync(
            async () => StalledCondition(JsonNode.Parse(await cluster.Http.GetStringAsync(new Uri($"apis/buildpool.dev/v1alpha1/namespaces/{Ns}/{row.Plural}/{name}", UriKind.Relative)))),
            c => c?["message"]?.GetValue<string>().Contains(row.Field + ":", StringComparison.Ordinal) == true,
            $"{row.Plural}/{name} to be Stalled",
            TimeSpan.FromSeconds(30));
        Assert.Contains(row.Field + ":", stalled!["message"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    private static JsonNode? StalledCondition(JsonNode? obj) =>
        (obj?["status"]?["conditions"] as JsonArray)?.FirstOrDefault(c => c?["type"]?.GetValue<string>() == "Stalled" && c["status"]?.GetValue<string>() == "True");

    private static BadInput Pool(string sentence, string spec, string field, BadInput.Answer expected = BadInput.Answer.Rejected, int status = 422) =>
        new(sentence, "builderpools", Resource("BuilderPool", spec), field, expected, status);

    private static BadInput Volume(string sentence, string spec, string field, BadInput.Answer expected = BadInput.Answer.Rejected, int status = 422) =>
        new(sentence, "cachevolumes", Resource("CacheVolume", spec), field, expected, status);

    private static BadInput Target(string sentence, string spec, string field) =>
        new(sentence, "registrycachetargets", Resource("RegistryCacheTarget", spec), field, BadInput.Answer.Rejected);

    private static BadInput Binding(string sentence, string spec, string field) =>
        new(sentence, "secretbindings", Resource("SecretBinding", spec), field, BadInput.Answer.Rejected);

    private static string Resource(string kind, string spec) =>
        $$"""{"apiVersion":"buildpool.dev/v1alpha1","kind":"{{kind}}","metadata":{"name":"NAME"},"spec":{{spec}}}""";

    /// <summary>A row of the table, shown in test names by its whole sentence (xunit cuts string arguments at 50 characters).</summary>
    public sealed class Case : IXunitSerializable
    {
        public Case()
        {
        }

        public Case(string sentence) => Sentence = sentence;

        public string Sentence { get; private set; } = "";

        public void Deserialize(IXunitSerializationInfo info)
        {
            ArgumentNullException.ThrowIfNull(info);
            Sentence = info.GetValue<string>(nameof(Sentence));
        }

        public void Serialize(IXunitSerializationInfo info)
        {
            ArgumentNullException.ThrowIfNull(info);
            info.AddValue(nameof(Sentence), Sentence);
        }

        public override string ToString() => Sentence;
    }

    /// <summary>One API server and operator for the whole table, with a valid pool "host" for rows that need one.</summary>
    public sealed class Cluster : IAsyncLifetime
    {
        private OperatorHarness? _harness;

        public HttpClient Http { get; private set; } = null!;

        public async Task InitializeAsync()
        {
            _harness = await OperatorHarness.StartAsync();
            Http = new HttpClient { BaseAddress = _harness.Server.BaseAddress };
            await _harness.Pools.CreateAsync(new Api.V1Alpha1.BuilderPool
            {
                Metadata = new k8s.Models.V1ObjectMeta { Name = "host", NamespaceProperty = Ns },
                Spec = new Api.V1Alpha1.BuilderPoolSpec
                {
                    Assignment = new Api.V1Alpha1.AssignmentSpec { Volumes = 1 },
                    Scaling = new Api.V1Alpha1.ScalingSpec { WarmBuilders = 0 },
                    Cache = new Api.V1Alpha1.CacheSpec { Volume = new Api.V1Alpha1.CacheVolumeTemplate { Size = "10Gi" } },
                },
            });
        }

        public async Task DisposeAsync()
        {
            Http.Dispose();
            if (_harness is not null)
            {
                await _harness.DisposeAsync();
            }
        }
    }
}
