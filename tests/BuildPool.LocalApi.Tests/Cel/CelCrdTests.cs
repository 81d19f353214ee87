using System.Net;
using System.Text.Json.Nodes;
using BuildPool.LocalApi.Tests.TestSupport;
using k8s;
using k8s.Models;

namespace BuildPool.LocalApi.Tests.Cel;

/// <summary>CEL rules of a CRD written through the API: compiled when the CRD is written, enforced on its objects.</summary>
public sealed class CelCrdTests : ServerTest
{
    private static V1CustomResourceDefinition Crd(string rule) => new()
    {
        ApiVersion = "apiextensions.k8s.io/v1",
        Kind = "CustomResourceDefinition",
        Metadata = new V1ObjectMeta { Name = "gadgets.example.com" },
        Spec = new V1CustomResourceDefinitionSpec
        {
            Group = "example.com",
            Scope = "Namespaced",
            Names = new V1CustomResourceDefinitionNames { Plural = "gadgets", Singular = "gadget", Kind = "Gadget", ListKind = "GadgetList" },
            Versions =
            [
                new V1CustomResourceDefinitionVersion
                {
                    Name = "v1",
                    Served = true,
                    Storage = true,
                    Schema = new V1CustomResourceValidation
                    {
                        OpenAPIV3Schema = new V1JSONSchemaProps
                        {
                            Type = "object",
                            Properties = new Dictionary<string, V1JSONSchemaProps>
                            {
                                ["spec"] = new()
                                {
                                    Type = "object",
                                    Properties = new Dictionary<string, V1JSONSchemaProps>
                                    {
                                        ["min"] = new() { Type = "integer" },
                                        ["max"] = new() { Type = "integer" },
                                    },
                                    XKubernetesValidations = [new V1ValidationRule { Rule = rule, Message = "spec.min must not be more than spec.max" }],
                                },
                            },
                        },
                    },
                },
            ],
        },
    };

    private static JsonObject Gadget(string name, int min, int max) => new()
    {
        ["apiVersion"] = "example.com/v1",
        ["kind"] = "Gadget",
        ["metadata"] = new JsonObject { ["name"] = name },
        ["spec"] = new JsonObject { ["min"] = min, ["max"] = max },
    };

    [Fact]
    public async Task A_rule_outside_the_subset_is_refused_when_the_crd_is_written_naming_the_rule()
    {
        var (code, status) = await FailureAsync(() => Client.ApiextensionsV1.CreateCustomResourceDefinitionAsync(Crd("self.min.map(x, x) == [1]")));

        Assert.Equal(HttpStatusCode.UnprocessableEntity, code);
        Assert.Contains(".x-kubernetes-validations[0].rule: Invalid value: \"self.min.map(x, x) == [1]\": compilation failed: ERROR: <input>:1:", Str(status["message"]), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_crds_rule_is_enforced_on_its_objects_from_the_moment_it_is_written()
    {
        await Client.ApiextensionsV1.CreateCustomResourceDefinitionAsync(Crd("self.min <= self.max"));

        await Client.CustomObjects.CreateNamespacedCustomObjectAsync(Gadget("fine", 1, 2), "example.com", "v1", Ns, "gadgets");
        var (code, status) = await FailureAsync(() => Client.CustomObjects.CreateNamespacedCustomObjectAsync(Gadget("upside-down", 3, 2), "example.com", "v1", Ns, "gadgets"));

        Assert.Equal(HttpStatusCode.UnprocessableEntity, code);
        Assert.Equal("Gadget.example.com \"upside-down\" is invalid: spec: Invalid value: \"object\": spec.min must not be more than spec.max", Str(status["message"]));
    }
}
