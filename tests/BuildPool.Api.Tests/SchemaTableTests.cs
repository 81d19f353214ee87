using System.Reflection;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using BuildPool.Api.Schema;
using BuildPool.Api.V1Alpha1;
using k8s;
using k8s.Models;

namespace BuildPool.Api.Tests;

public class SchemaTableTests
{
    private static V1CustomResourceDefinition Crd(string kind) => CrdGenerator.Generate().Single(c => c.Spec.Names.Kind == kind);

    [Theory]
    [InlineData("BuilderPool", "spec", "{}")]
    [InlineData("BuilderPool", "spec.builder.image", "\"moby/buildkit:v0.17.3-rootless\"")]
    [InlineData("BuilderPool", "spec.builder.securityProfile", "\"Rootless\"")]
    [InlineData("BuilderPool", "spec.builder.maxConcurrentBuilds", "4")]
    [InlineData("BuilderPool", "spec.cache.volume.size", "\"50Gi\"")]
    [InlineData("BuilderPool", "spec.cache.sharing", "\"Shared\"")]
    [InlineData("BuilderPool", "spec.cache.reclaimPolicy", "\"Retain\"")]
    [InlineData("BuilderPool", "spec.cache.gc.reservedSpace", "\"10%\"")]
    [InlineData("BuilderPool", "spec.cache.gc.maxUsedSpace", "\"80%\"")]
    [InlineData("BuilderPool", "spec.cache.gc.minFreeSpace", "\"10%\"")]
    [InlineData("BuilderPool", "spec.assignment.mode", "\"Hashed\"")]
    [InlineData("BuilderPool", "spec.assignment.volumes", "4")]
    [InlineData("BuilderPool", "spec.scaling.warmBuilders", "1")]
    [InlineData("BuilderPool", "spec.scaling.idleTimeout", "\"30m\"")]
    [InlineData("BuilderPool", "spec.scaling.startTimeout", "\"2m\"")]
    [InlineData("BuilderPool", "spec.routing.boundedLoadFactor", "1.25")]
    [InlineData("BuilderPool", "spec.routing.queueTimeout", "\"5m\"")]
    [InlineData("BuilderPool", "spec.routing.keySources", """["Authority","ClientCertificate","ImageName","CacheRef","SessionDirectory"]""")]
    [InlineData("BuilderPool", "spec.endpoint.port", "1234")]
    [InlineData("BuilderPool", "spec.endpoint.serviceType", "\"ClusterIP\"")]
    [InlineData("BuilderPool", "spec.endpoint.tls.mode", "\"Disabled\"")]
    [InlineData("BuilderPool", "spec.endpoint.tls.requireClientCertificate", "true")]
    [InlineData("BuilderPool", "spec.cacheTargets[].inject", "false")]
    [InlineData("SecretBinding", "spec.clientAccess.secretName", "\"buildpool-client\"")]
    [InlineData("SecretBinding", "spec.clientAccess.untrusted", "false")]
    [InlineData("SecretBinding", "spec.cacheBackendCredentials.delivery", "\"Env\"")]
    [InlineData("RegistryCacheTarget", "spec.mode", "\"min\"")]
    [InlineData("RegistryCacheTarget", "spec.compression", "\"gzip\"")]
    [InlineData("RegistryCacheTarget", "spec.ociMediatypes", "true")]
    [InlineData("RegistryCacheTarget", "spec.imageManifest", "false")]
    [InlineData("RegistryCacheTarget", "spec.ignoreError", "false")]
    [InlineData("RegistryCacheTarget", "spec.managed", "false")]
    public void Field_has_the_documented_default(string kind, string path, string json)
    {
        var node = SchemaWalk.At(Crd(kind), path);
        Assert.True(
            JsonNode.DeepEquals(JsonNode.Parse(json), SchemaValidator.ToNode(node.DefaultProperty)),
            $"{kind} {path}: default {SchemaValidator.ToNode(node.DefaultProperty)?.ToJsonString()}, expected {json}");
    }

    [Theory]
    [InlineData("CacheVolume", "spec.sharing")]
    [InlineData("CacheVolume", "spec.size")]
    [InlineData("CacheVolume", "spec.storageClassName")]
    [InlineData("BuilderPool", "spec.builder.maxParallelism")]
    [InlineData("BuilderPool", "spec.routing.domain")]
    public void Field_inherits_instead_of_defaulting(string kind, string path) =>
        Assert.Null(SchemaWalk.At(Crd(kind), path).DefaultProperty);

    [Theory]
    [InlineData("BuilderPool", "spec.builder.securityProfile", "Rootless,UserNamespace,Privileged")]
    [InlineData("BuilderPool", "spec.cache.sharing", "Shared,Locked,Private")]
    [InlineData("BuilderPool", "spec.cache.reclaimPolicy", "Retain,Delete")]
    [InlineData("BuilderPool", "spec.assignment.mode", "Hashed,Dedicated")]
    [InlineData("BuilderPool", "spec.routing.keySources[]", "Authority,ClientCertificate,ImageName,CacheRef,SessionDirectory")]
    [InlineData("BuilderPool", "spec.endpoint.serviceType", "ClusterIP,NodePort,LoadBalancer")]
    [InlineData("BuilderPool", "spec.endpoint.tls.mode", "Disabled,Managed,FromSecret")]
    [InlineData("CacheVolume", "spec.sharing", "Shared,Locked,Private")]
    [InlineData("CacheVolume", "status.phase", "Pending,Starting,Ready,Idle,Draining,Failed")]
    [InlineData("SecretBinding", "spec.kind", "ClientAccess,CacheBackendCredentials,RegistryTLS,EndpointTLS")]
    [InlineData("SecretBinding", "spec.cacheBackendCredentials.delivery", "Env,Files")]
    [InlineData("RegistryCacheTarget", "spec.mode", "min,max")]
    [InlineData("RegistryCacheTarget", "spec.compression", "gzip,estargz,zstd")]
    public void Enum_field_is_a_string_with_exactly_these_values(string kind, string path, string values)
    {
        var node = SchemaWalk.At(Crd(kind), path);
        Assert.Equal("string", node.Type);
        Assert.Equal(values.Split(','), node.EnumProperty.Cast<string>());
        Assert.Contains("Possible values:", node.Description, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("BuilderPool", "spec.scaling.idleTimeout", "30m", "30 minutes")]
    [InlineData("BuilderPool", "spec.scaling.startTimeout", "1h30m", "-2m")]
    [InlineData("BuilderPool", "spec.routing.queueTimeout", "90s", "5")]
    [InlineData("BuilderPool", "spec.cache.gc.keepDuration", "48h", "2d")]
    [InlineData("BuilderPool", "spec.cache.cacheMounts[].keepDuration", "168h", "1w")]
    [InlineData("BuilderPool", "spec.cache.volume.size", "100Gi", "100GB")]
    [InlineData("BuilderPool", "spec.cache.gc.reservedSpace", "10%", "101%")]
    [InlineData("BuilderPool", "spec.cache.gc.maxUsedSpace", "200Gi", "lots")]
    [InlineData("BuilderPool", "spec.cache.gc.minFreeSpace", "1.5Ti", "-1Gi")]
    [InlineData("BuilderPool", "spec.cache.cacheMounts[].maxSize", "10Gi", "10%")]
    [InlineData("BuilderPool", "spec.cache.autoGrow.threshold", "85%", "85")]
    [InlineData("BuilderPool", "spec.cache.autoGrow.step", "25%", "25 %")]
    [InlineData("BuilderPool", "spec.cache.autoGrow.maxSize", "1Ti", "1T%")]
    [InlineData("BuilderPool", "spec.builder.image", "moby/buildkit:v0.17.3-rootless", "moby/buildkit latest")]
    [InlineData("BuilderPool", "spec.builder.platforms[]", "linux/arm64/v8", "arm64")]
    [InlineData("BuilderPool", "spec.builder.registries[].host", "mirror.test:5000", "https://mirror.test")]
    [InlineData("BuilderPool", "spec.routing.domain", "builds.example.test", "Builds.Example")]
    [InlineData("BuilderPool", "spec.cacheTargets[].name", "shared-cache", "Shared_Cache")]
    [InlineData("CacheVolume", "spec.pool", "ci", "CI")]
    [InlineData("CacheVolume", "spec.size", "20Gi", "20 Gi")]
    [InlineData("CacheVolume", "spec.retention.deleteAfterIdle", "720h", "30d")]
    [InlineData("SecretBinding", "spec.clientAccess.targetNamespace", "tenant-a", "tenant.a")]
    [InlineData("SecretBinding", "spec.clientAccess.validity", "2160h", "90 days")]
    [InlineData("SecretBinding", "spec.cacheBackendCredentials.mountPath", "/run/creds", "run/creds")]
    [InlineData("RegistryCacheTarget", "spec.ref", "cache/app:{key}", "cache/app:latest")]
    [InlineData("RegistryCacheTarget", "spec.retention.maxAge", "336h", "14d")]
    [InlineData("RegistryCacheTarget", "spec.retention.maxBytes", "200Gi", "50%")]
    public void Field_pattern_accepts_and_rejects(string kind, string path, string accepted, string rejected)
    {
        var node = SchemaWalk.At(Crd(kind), path);
        Assert.NotNull(node.Pattern);
        Assert.Matches(new Regex(node.Pattern), accepted);
        Assert.DoesNotMatch(new Regex(node.Pattern), rejected);
        Assert.NotNull(node.MaxLength);
    }

    [Theory]
    [InlineData("BuilderPool", "spec.builder.maxConcurrentBuilds", 1.0, 1024.0)]
    [InlineData("BuilderPool", "spec.assignment.volumes", 1.0, 256.0)]
    [InlineData("BuilderPool", "spec.scaling.warmBuilders", 0.0, 256.0)]
    [InlineData("BuilderPool", "spec.routing.boundedLoadFactor", 1.0, 10.0)]
    [InlineData("BuilderPool", "spec.endpoint.port", 1.0, 65535.0)]
    [InlineData("CacheVolume", "status.cacheHitRatio", 0.0, 1.0)]
    [InlineData("RegistryCacheTarget", "spec.compressionLevel", 0.0, 22.0)]
    public void Numeric_field_has_range(string kind, string path, double minimum, double maximum)
    {
        var node = SchemaWalk.At(Crd(kind), path);
        Assert.Equal(minimum, node.Minimum);
        Assert.Equal(maximum, node.Maximum);
    }

    [Theory]
    [InlineData("CacheVolume", "spec", "pool")]
    [InlineData("SecretBinding", "spec", "kind,pool")]
    [InlineData("SecretBinding", "spec.clientAccess", "targetNamespace")]
    [InlineData("SecretBinding", "spec.endpointTLS", "serverCertificateSecretRef")]
    [InlineData("RegistryCacheTarget", "spec", "ref")]
    [InlineData("BuilderPool", "spec.cache.autoGrow", "maxSize")]
    [InlineData("BuilderPool", "spec.cache.cacheMounts[]", "id")]
    public void Object_requires_fields(string kind, string path, string required) =>
        Assert.Equal(required.Split(','), SchemaWalk.At(Crd(kind), path).Required);

    [Theory]
    [InlineData("SecretBinding", "spec", "has(self.clientAccess) == (self.kind == 'ClientAccess')")]
    [InlineData("SecretBinding", "spec.registryTLS", "has(self.caSecretRef) || has(self.clientKeyPairSecretRef)")]
    [InlineData("BuilderPool", "spec.endpoint.tls", "self.mode != 'FromSecret' || has(self.secretName)")]
    [InlineData("BuilderPool", "spec.assignment", "self.mode != 'Dedicated' || self.maxVolumes >= self.volumes")]
    [InlineData("BuilderPool", "spec.routing.keySources", "self.all(x, self.exists_one(y, y == x))")]
    public void Cross_field_rule_is_published_as_cel(string kind, string path, string rule)
    {
        var rules = SchemaWalk.At(Crd(kind), path).XKubernetesValidations;
        var match = Assert.Single(rules, r => r.Rule == rule);
        Assert.StartsWith("spec.", match.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Resource_quantities_are_int_or_string_without_a_type()
    {
        var limits = SchemaWalk.At(Crd("BuilderPool"), "spec.builder.resources.limits");
        var value = (V1JSONSchemaProps)limits.AdditionalProperties;
        Assert.True(value.XKubernetesIntOrString);
        Assert.Null(value.Type);
    }

    [Fact]
    public void Builder_image_default_is_a_pinned_rootless_tag_without_a_registry_host()
    {
        Assert.Matches(@"^moby/buildkit:v\d+\.\d+\.\d+-rootless$", BuilderSpec.DefaultImage);
    }

    public static TheoryData<string, string> DefaultedProperties
    {
        get
        {
            var data = new TheoryData<string, string>();
            var properties = typeof(BuilderPool).Assembly.GetTypes()
                .Where(t => t.Namespace == typeof(BuilderPool).Namespace && t.IsClass && !t.IsAbstract)
                .SelectMany(t => t.GetProperties().Where(p => p.IsDefined(typeof(DefaultAttribute))).Select(p => (Type: t.Name, Property: p.Name)))
                .OrderBy(x => x.Type, StringComparer.Ordinal).ThenBy(x => x.Property, StringComparer.Ordinal);
            foreach (var (type, property) in properties)
            {
                data.Add(type, property);
            }

            return data;
        }
    }

    [Theory]
    [MemberData(nameof(DefaultedProperties))]
    public void Clr_initializer_equals_the_schema_default(string typeName, string propertyName)
    {
        var type = typeof(BuilderPool).Assembly.GetType($"{typeof(BuilderPool).Namespace}.{typeName}", throwOnError: true)!;
        var property = type.GetProperty(propertyName)!;
        // The operator reads objects the API server has not defaulted yet (tests, dry runs);
        // they must mean the same as defaulted ones.
        var instance = Activator.CreateInstance(type)!;
        var actual = JsonNode.Parse(KubernetesJson.Serialize(property.GetValue(instance)));
        var expected = JsonNode.Parse(property.GetCustomAttribute<DefaultAttribute>()!.Json)!;
        if (expected is JsonObject { Count: 0 })
        {
            Assert.IsType<JsonObject>(actual);
            return;
        }

        Assert.True(JsonNode.DeepEquals(expected, actual), $"{type.Name}.{property.Name}: initializer {actual?.ToJsonString()}, default {expected.ToJsonString()}");
    }
}
