using System.Net;
using System.Text.Json.Nodes;
using BuildPool.LocalApi.Json;
using BuildPool.LocalApi.Tests.TestSupport;
using BuildPool.LocalApi.Validation.Cel;
using BuildPool.TestDoubles;
using k8s;
using k8s.Models;

namespace BuildPool.LocalApi.Tests;

/// <summary>
/// The CEL rules (x-kubernetes-validations) of the project's CRDs, enforced by the emulator over
/// HTTP and kubectl as kube-apiserver 1.25+ enforces them: a GitOps sync of an invalid object
/// fails at apply time with the rule's message.
/// </summary>
public sealed class ProjectCrdRuleTests : ServerTest, IDisposable
{
    private const string ProjectGroup = "buildpool.dev";
    private const string ProjectVersion = "v1alpha1";

    private readonly string _dir = Directory.CreateTempSubdirectory("localapi-cel-").FullName;

    protected override LocalApiOptions Options => new() { CrdDirectory = ProjectCrdTestsPaths.Crds, RandomSeed = 11 };

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static JsonObject Object(string kind, string name, JsonObject spec) => new()
    {
        ["apiVersion"] = $"{ProjectGroup}/{ProjectVersion}",
        ["kind"] = kind,
        ["metadata"] = new JsonObject { ["name"] = name },
        ["spec"] = spec,
    };

    private static JsonObject Spec(string json) => JsonNode.Parse(json)!.AsObject();

    private Task<object> CreateAsync(JsonObject obj) =>
        Client.CustomObjects.CreateNamespacedCustomObjectAsync(obj, ProjectGroup, ProjectVersion, Ns, Str(obj["kind"])!.ToLowerInvariant() + "s");

    private async Task<string> RefusedAsync(JsonObject obj)
    {
        var (code, status) = await FailureAsync(() => CreateAsync(obj));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, code);
        return Str(status["message"])!;
    }

    public static TheoryData<string, string, string, string> Refused() => new()
    {
        {
            "BuilderPool", """{"assignment": {"volumes": 2}, "scaling": {"warmBuilders": 3}}""",
            "spec", "spec.scaling.warmBuilders must not be more than spec.assignment.volumes"
        },
        {
            "BuilderPool", """{"assignment": {"mode": "Dedicated", "volumes": 1, "maxVolumes": 4}, "scaling": {"warmBuilders": 5}}""",
            "spec", "spec.scaling.warmBuilders must not be more than spec.assignment.maxVolumes"
        },
        {
            "BuilderPool", """{"assignment": {"mode": "Dedicated", "volumes": 8, "maxVolumes": 4}, "scaling": {"warmBuilders": 1}}""",
            "spec.assignment", "spec.assignment.maxVolumes must not be less than spec.assignment.volumes"
        },
        {
            "BuilderPool", """{"endpoint": {"tls": {"mode": "FromSecret"}}}""",
            "spec.endpoint.tls", "spec.endpoint.tls.secretName is required when spec.endpoint.tls.mode is FromSecret"
        },
        {
            "BuilderPool", """{"routing": {"keySources": ["ImageName", "CacheRef", "ImageName"]}}""",
            "spec.routing.keySources", "spec.routing.keySources must not repeat a source"
        },
        {
            "RegistryCacheTarget", """{"ref": "cache/app:{key}", "imageManifest": true, "ociMediatypes": false}""",
            "spec", "spec.ociMediatypes must be true when spec.imageManifest is true"
        },
        {
            "RegistryCacheTarget", """{"ref": "cache/app:{key}", "compression": "gzip", "compressionLevel": 15}""",
            "spec", "spec.compressionLevel must be 0-9 for gzip and estargz (0-22 for zstd)"
        },
        {
            "RegistryCacheTarget", """{"ref": "cache/app:{key}", "compression": "estargz", "compressionLevel": 10}""",
            "spec", "spec.compressionLevel must be 0-9 for gzip and estargz (0-22 for zstd)"
        },
        {
            "CacheVolume", """{"pool": "ci", "cloneFrom": "ci-0", "cloneFromSnapshot": "snap"}""",
            "spec", "spec.cloneFrom and spec.cloneFromSnapshot are exclusive"
        },
        {
            "SecretBinding", """{"kind": "ClientAccess", "pool": "ci", "endpointTLS": {"serverCertificateSecretRef": {"name": "tls"}}}""",
            "spec", "spec.clientAccess must be set exactly when spec.kind is ClientAccess"
        },
        {
            "SecretBinding", """{"kind": "RegistryTLS", "pool": "ci", "registryTLS": {"registry": "registry.example.test:5000"}}""",
            "spec.registryTLS", "spec.registryTLS needs caSecretRef or clientKeyPairSecretRef"
        },
    };

    [ProjectCrdFact]
    public void Every_rule_of_the_project_crds_is_one_the_emulator_can_read()
    {
        var rules = Directory.EnumerateFiles(ProjectCrdTestsPaths.Crds!, "*.yaml")
            .SelectMany(f => Rules(YamlJson.ParseDocuments(File.ReadAllText(f)).Single()))
            .ToList();

        Assert.True(rules.Count >= 15, $"found only {rules.Count} rules");
        Assert.All(rules, rule => CelRules.Parse(rule));
    }

    [ProjectCrdFact]
    public async Task Objects_that_break_a_rule_are_refused_at_the_rules_field_with_its_message()
    {
        foreach (var row in Refused())
        {
            var (kind, spec, field, message) = ((string)row[0], (string)row[1], (string)row[2], (string)row[3]);
            var refused = await RefusedAsync(Object(kind, "bad", Spec(spec)));
            Assert.True(refused.Contains($"{field}: Invalid value: \"", StringComparison.Ordinal) && refused.Contains(message, StringComparison.Ordinal), $"{kind} {spec}: {refused}");
        }
    }

    [ProjectCrdFact]
    public async Task Objects_on_the_right_side_of_each_rule_are_accepted()
    {
        await CreateAsync(Object("BuilderPool", "hashed", Spec("""{"assignment": {"volumes": 2}, "scaling": {"warmBuilders": 2}}""")));
        // Dedicated pools count warm builders against maxVolumes, not volumes.
        await CreateAsync(Object("BuilderPool", "dedicated", Spec("""{"assignment": {"mode": "Dedicated", "volumes": 1, "maxVolumes": 8}, "scaling": {"warmBuilders": 5}}""")));
        await CreateAsync(Object("RegistryCacheTarget", "zstd", Spec("""{"ref": "cache/app:{key}", "compression": "zstd", "compressionLevel": 19, "imageManifest": true}""")));
        await CreateAsync(Object("RegistryCacheTarget", "gzip", Spec("""{"ref": "cache/app:{key}", "compressionLevel": 9, "ociMediatypes": false}""")));
    }

    [ProjectCrdFact]
    public async Task A_volumes_pool_cannot_change_but_the_rest_of_its_spec_and_its_status_can()
    {
        await CreateAsync(Object("CacheVolume", "pinned", Spec("""{"pool": "ci", "keys": ["release"]}""")));

        var (code, status) = await FailureAsync(() => Client.CustomObjects.PatchNamespacedCustomObjectAsync(
            new V1Patch("""{"spec": {"pool": "other"}}""", V1Patch.PatchType.MergePatch), ProjectGroup, ProjectVersion, Ns, "cachevolumes", "pinned"));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, code);
        Assert.Contains("spec.pool: Invalid value: \"string\": spec.pool is immutable", Str(status["message"]), StringComparison.Ordinal);

        await Client.CustomObjects.PatchNamespacedCustomObjectAsync(
            new V1Patch("""{"spec": {"keys": ["release", "hotfix"]}}""", V1Patch.PatchType.MergePatch), ProjectGroup, ProjectVersion, Ns, "cachevolumes", "pinned");
        await Client.CustomObjects.PatchNamespacedCustomObjectStatusAsync(
            new V1Patch("""{"status": {"phase": "Pending"}}""", V1Patch.PatchType.MergePatch), ProjectGroup, ProjectVersion, Ns, "cachevolumes", "pinned");
    }

    [KubectlFact]
    public async Task Kubectl_apply_of_an_object_breaking_a_rule_fails_with_the_rules_message()
    {
        Assert.NotNull(ProjectCrdTestsPaths.Crds);
        var kubeconfig = Path.Combine(_dir, "kubeconfig");
        Server.WriteKubeconfig(kubeconfig);
        var file = Path.Combine(_dir, "target.yaml");
        await File.WriteAllTextAsync(file, """
            apiVersion: buildpool.dev/v1alpha1
            kind: RegistryCacheTarget
            metadata:
              name: cache
            spec:
              ref: cache/app:{key}
              imageManifest: true
              ociMediatypes: false
            """);

        var result = await new Kubectl(kubeconfig).RunAsync("apply", "-f", file);

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("\"cache\" is invalid: spec: Invalid value: \"object\": spec.ociMediatypes must be true when spec.imageManifest is true", result.Stderr, StringComparison.Ordinal);
    }

    private static IEnumerable<string> Rules(JsonNode? node) => node switch
    {
        JsonObject o => (o["x-kubernetes-validations"] is JsonArray rules ? rules.Select(r => Str(r!["rule"])!) : [])
            .Concat(o.Where(kv => kv.Key != "x-kubernetes-validations").SelectMany(kv => Rules(kv.Value))),
        JsonArray a => a.SelectMany(Rules),
        _ => [],
    };
}
