using System.Text.Json.Nodes;
using BuildPool.Api.Schema;
using BuildPool.Api.V1Alpha1;
using k8s;
using k8s.Models;

namespace BuildPool.Api.Tests;

public class JsonRoundTripTests
{
    public static TheoryData<string> SampleNames =>
    [
        nameof(Samples.BuilderPool),
        nameof(Samples.CacheVolume),
        nameof(Samples.SecretBinding),
        nameof(Samples.ClientAccessBinding),
        nameof(Samples.CacheBackendBinding),
        nameof(Samples.EndpointTlsBinding),
        nameof(Samples.RegistryCacheTarget),
    ];

    private static IKubernetesObject<V1ObjectMeta> Sample(string name) => name switch
    {
        nameof(Samples.BuilderPool) => Samples.BuilderPool(),
        nameof(Samples.CacheVolume) => Samples.CacheVolume(),
        nameof(Samples.SecretBinding) => Samples.SecretBinding(),
        nameof(Samples.ClientAccessBinding) => Samples.ClientAccessBinding(),
        nameof(Samples.CacheBackendBinding) => Samples.CacheBackendBinding(),
        nameof(Samples.EndpointTlsBinding) => Samples.EndpointTlsBinding(),
        nameof(Samples.RegistryCacheTarget) => Samples.RegistryCacheTarget(),
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    private static string RoundTrip(IKubernetesObject<V1ObjectMeta> value)
    {
        var json = KubernetesJson.Serialize(value);
        object back = value switch
        {
            BuilderPool => KubernetesJson.Deserialize<BuilderPool>(json),
            CacheVolume => KubernetesJson.Deserialize<CacheVolume>(json),
            SecretBinding => KubernetesJson.Deserialize<SecretBinding>(json),
            RegistryCacheTarget => KubernetesJson.Deserialize<RegistryCacheTarget>(json),
            _ => throw new ArgumentOutOfRangeException(nameof(value)),
        };
        return KubernetesJson.Serialize(back);
    }

    [Theory]
    [MemberData(nameof(SampleNames))]
    public void Every_kind_survives_a_kubernetes_json_round_trip(string sample)
    {
        var value = Sample(sample);
        Assert.Equal(KubernetesJson.Serialize(value), RoundTrip(value));
    }

    [Theory]
    [MemberData(nameof(SampleNames))]
    public void Serialized_objects_validate_against_the_generated_schema(string sample)
    {
        var value = Sample(sample);
        var crd = CrdGenerator.Generate().Single(c => c.Spec.Names.Kind == value.Kind);
        var node = JsonNode.Parse(KubernetesJson.Serialize(value))!;
        var errors = SchemaValidator.Validate(node, SchemaWalk.Root(crd));
        Assert.True(errors.Count == 0, string.Join('\n', errors));
    }

    [Fact]
    public void Enums_serialize_as_their_api_strings()
    {
        var pool = KubernetesJson.Serialize(Samples.BuilderPool());
        Assert.Contains("\"securityProfile\":\"Privileged\"", pool, StringComparison.Ordinal);
        Assert.Contains("\"sharing\":\"Locked\"", pool, StringComparison.Ordinal);
        Assert.Contains("\"reclaimPolicy\":\"Delete\"", pool, StringComparison.Ordinal);
        Assert.Contains("\"mode\":\"Dedicated\"", pool, StringComparison.Ordinal);
        Assert.Contains("\"keySources\":[\"ClientCertificate\",\"SessionDirectory\"]", pool, StringComparison.Ordinal);
        Assert.Contains("\"serviceType\":\"LoadBalancer\"", pool, StringComparison.Ordinal);
        Assert.Contains("\"mode\":\"FromSecret\"", pool, StringComparison.Ordinal);

        Assert.Contains("\"phase\":\"Draining\"", KubernetesJson.Serialize(Samples.CacheVolume()), StringComparison.Ordinal);
        Assert.Contains("\"kind\":\"RegistryTLS\"", KubernetesJson.Serialize(Samples.SecretBinding()), StringComparison.Ordinal);
        Assert.Contains("\"kind\":\"EndpointTLS\"", KubernetesJson.Serialize(Samples.EndpointTlsBinding()), StringComparison.Ordinal);
        Assert.Contains("\"delivery\":\"Files\"", KubernetesJson.Serialize(Samples.CacheBackendBinding()), StringComparison.Ordinal);

        var target = KubernetesJson.Serialize(Samples.RegistryCacheTarget());
        Assert.Contains("\"mode\":\"max\"", target, StringComparison.Ordinal);
        Assert.Contains("\"compression\":\"zstd\"", target, StringComparison.Ordinal);
    }

    [Fact]
    public void Objects_as_the_api_server_sends_them_deserialize_with_string_enums()
    {
        const string json = """
            {"apiVersion":"buildpool.dev/v1alpha1","kind":"RegistryCacheTarget",
             "metadata":{"name":"c","namespace":"n","generation":4,"unknownField":1},
             "spec":{"ref":"cache/{key}","mode":"max","compression":"estargz","ociMediatypes":false},
             "status":{"observedGeneration":4,"reachable":false,"lastGC":"2026-01-02T03:04:05Z",
               "conditions":[{"type":"Ready","status":"False","reason":"Unreachable","message":"dial tcp: timeout","lastTransitionTime":"2026-01-02T03:04:05Z"}]}}
            """;
        var target = KubernetesJson.Deserialize<RegistryCacheTarget>(json);
        Assert.Equal(CacheExportMode.Max, target.Spec.Mode);
        Assert.Equal(CacheCompression.Estargz, target.Spec.Compression);
        Assert.False(target.Spec.OciMediatypes);
        Assert.False(target.Status.Reachable);
        Assert.Equal(new DateTime(2026, 1, 2, 3, 4, 5, DateTimeKind.Utc), target.Status.LastGC?.ToUniversalTime());
        Assert.Equal("Unreachable", Assert.Single(target.Status.Conditions).Reason);
    }

    [Fact]
    public void Missing_fields_read_as_the_schema_defaults()
    {
        var pool = KubernetesJson.Deserialize<BuilderPool>("""{"apiVersion":"buildpool.dev/v1alpha1","kind":"BuilderPool","metadata":{"name":"p"},"spec":{}}""");
        Assert.Equal(BuilderSpec.DefaultImage, pool.Spec.Builder.Image);
        Assert.Equal(SecurityProfile.Rootless, pool.Spec.Builder.SecurityProfile);
        Assert.Equal(AssignmentMode.Hashed, pool.Spec.Assignment.Mode);
        Assert.Equal(4, pool.Spec.Assignment.Volumes);
        Assert.Equal(1.25, pool.Spec.Routing.BoundedLoadFactor);
        Assert.True(pool.Spec.Endpoint.Tls.RequireClientCertificate);
        Assert.Equal(5, pool.Spec.Routing.KeySources.Count);
    }

    [Fact]
    public void Lists_of_each_kind_round_trip()
    {
        var list = new BuilderPoolList { Metadata = new V1ListMeta { ResourceVersion = "7" }, Items = [Samples.BuilderPool()] };
        var json = KubernetesJson.Serialize(list);
        var back = KubernetesJson.Deserialize<BuilderPoolList>(json);
        Assert.Equal("BuilderPoolList", back.Kind);
        Assert.Equal("7", back.Metadata.ResourceVersion);
        Assert.Equal(json, KubernetesJson.Serialize(back));

        Assert.Equal("CacheVolumeList", new CacheVolumeList { Items = [Samples.CacheVolume()] }.Kind);
        Assert.Equal("SecretBindingList", new SecretBindingList { Items = [Samples.SecretBinding()] }.Kind);
        Assert.Equal("RegistryCacheTargetList", new RegistryCacheTargetList { Items = [Samples.RegistryCacheTarget()] }.Kind);
    }
}
