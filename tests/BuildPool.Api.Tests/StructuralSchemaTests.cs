using System.Text.RegularExpressions;
using BuildPool.Api.Schema;
using k8s;
using k8s.Models;

namespace BuildPool.Api.Tests;

public class StructuralSchemaTests
{
    public static TheoryData<string> Kinds => [.. CrdGenerator.Generate().Select(c => c.Spec.Names.Kind)];

    private static V1CustomResourceDefinition Crd(string kind) => CrdGenerator.Generate().Single(c => c.Spec.Names.Kind == kind);

    private static void AssertNone(IEnumerable<string> problems, string what)
    {
        var list = problems.ToList();
        Assert.True(list.Count == 0, what + ":\n" + string.Join('\n', list));
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Every_schema_node_has_a_type_unless_it_is_int_or_string(string kind)
    {
        var nodes = SchemaWalk.All(SchemaWalk.Root(Crd(kind)));
        AssertNone(
            nodes.Where(n => n.Node.XKubernetesIntOrString == true ? n.Node.Type is not null : string.IsNullOrEmpty(n.Node.Type))
                .Select(n => $"{n.Path}: type '{n.Node.Type}' with int-or-string {n.Node.XKubernetesIntOrString}"),
            "nodes break the typing rule of structural schemas");
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void No_schema_node_uses_ref_or_combinators_or_nullable(string kind)
    {
        var nodes = SchemaWalk.All(SchemaWalk.Root(Crd(kind)));
        AssertNone(
            nodes.Where(n => n.Node.RefProperty is not null || n.Node.AnyOf is not null || n.Node.OneOf is not null
                    || n.Node.AllOf is not null || n.Node.Not is not null || n.Node.Nullable == true
                    || n.Node.Definitions is not null || n.Node.Dependencies is not null || n.Node.PatternProperties is not null)
                .Select(n => n.Path),
            "nodes use $ref, anyOf/oneOf/allOf/not, definitions or nullable");
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Metadata_at_the_root_is_only_an_object(string kind)
    {
        var metadata = SchemaWalk.At(Crd(kind), "metadata");
        Assert.Equal(
            KubernetesJson.Serialize(new V1JSONSchemaProps { Type = "object" }),
            KubernetesJson.Serialize(metadata));
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Every_property_has_a_description(string kind)
    {
        var nodes = SchemaWalk.All(SchemaWalk.Root(Crd(kind))).Where(n => n.Path.Length > 0 && n.Path != "metadata"
            && !n.Path.EndsWith("[]", StringComparison.Ordinal) && !n.Path.EndsWith("{}", StringComparison.Ordinal));
        AssertNone(nodes.Where(n => string.IsNullOrWhiteSpace(n.Node.Description)).Select(n => n.Path), "properties without description (kubectl explain text)");
        Assert.False(string.IsNullOrWhiteSpace(SchemaWalk.Root(Crd(kind)).Description));
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Objects_with_properties_allow_no_additional_properties_and_maps_name_no_properties(string kind)
    {
        var nodes = SchemaWalk.All(SchemaWalk.Root(Crd(kind)));
        AssertNone(
            nodes.Where(n => n.Node.Properties is not null && n.Node.AdditionalProperties is not null)
                .Select(n => n.Path),
            "nodes with both properties and additionalProperties");
        AssertNone(
            nodes.Where(n => n.Node.Type == "object" && n.Node.Properties is null && n.Node.AdditionalProperties is null
                    && n.Node.XKubernetesPreserveUnknownFields != true && n.Path != "metadata")
                .Select(n => n.Path),
            "objects the API server would prune to {} (no properties, no additionalProperties)");
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Defaults_validate_against_their_own_node(string kind)
    {
        var nodes = SchemaWalk.All(SchemaWalk.Root(Crd(kind))).Where(n => n.Node.DefaultProperty is not null).ToList();
        AssertNone(
            nodes.SelectMany(n => SchemaValidator.Validate(SchemaValidator.ToNode(n.Node.DefaultProperty), n.Node, n.Path)),
            "defaults the API server would reject");
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Required_fields_exist_and_have_no_defaults(string kind)
    {
        var nodes = SchemaWalk.All(SchemaWalk.Root(Crd(kind)));
        AssertNone(
            nodes.SelectMany(n => (n.Node.Required ?? []).Where(r => n.Node.Properties?.ContainsKey(r) != true
                    || n.Node.Properties[r].DefaultProperty is not null)
                .Select(r => $"{n.Path}.{r}")),
            "required fields that are missing from properties or defaulted");
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void List_map_keys_are_required_scalar_fields_and_sets_hold_scalars(string kind)
    {
        var nodes = SchemaWalk.All(SchemaWalk.Root(Crd(kind))).Where(n => n.Node.XKubernetesListType is not null).ToList();
        var problems = new List<string>();
        foreach (var (path, node) in nodes)
        {
            var items = (V1JSONSchemaProps)node.Items;
            switch (node.XKubernetesListType)
            {
                case "map":
                    Assert.NotNull(node.XKubernetesListMapKeys);
                    problems.AddRange(node.XKubernetesListMapKeys
                        .Where(k => items.Required?.Contains(k) != true || items.Properties[k].Type is not ("string" or "integer"))
                        .Select(k => $"{path}: key {k}"));
                    break;
                case "set":
                    if (items.Type is not ("string" or "integer" or "number" or "boolean"))
                    {
                        problems.Add($"{path}: set of {items.Type}");
                    }

                    break;
                case "atomic":
                    break;
                default:
                    problems.Add($"{path}: unknown list type {node.XKubernetesListType}");
                    break;
            }
        }

        AssertNone(problems, "list types the API server would reject");
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Patterns_are_valid_regular_expressions(string kind)
    {
        foreach (var (path, node) in SchemaWalk.All(SchemaWalk.Root(Crd(kind))).Where(n => n.Node.Pattern is not null))
        {
            var exception = Record.Exception(() => new Regex(node.Pattern, RegexOptions.ECMAScript));
            Assert.True(exception is null, $"{path}: {node.Pattern}: {exception?.Message}");
        }
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Status_subresource_is_enabled(string kind)
    {
        var version = Crd(kind).Spec.Versions.Single();
        Assert.NotNull(version.Subresources?.Status);
        Assert.Equal("object", SchemaWalk.At(Crd(kind), "status").Type);
        Assert.True(version.Served && version.Storage);
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Printer_columns_reference_existing_fields_of_the_column_type(string kind)
    {
        var crd = Crd(kind);
        var columns = crd.Spec.Versions.Single().AdditionalPrinterColumns;
        Assert.NotEmpty(columns);
        Assert.Contains(columns, c => c.Name == "Age" && c.JsonPath == ".metadata.creationTimestamp" && c.Type == "date");
        foreach (var column in columns.Where(c => !c.JsonPath.StartsWith(".metadata.", StringComparison.Ordinal)))
        {
            // A filter such as [?(@.type=="Ready")] selects list items; the path continues in the item.
            var path = Regex.Replace(column.JsonPath, @"\[\?\(.*?\)\]", "[]").TrimStart('.');
            var node = SchemaWalk.At(crd, path);
            var expected = column.Type switch
            {
                "date" => "string",
                var t => t,
            };
            Assert.True(node.Type == expected, $"{kind} column {column.Name} ({column.Type}) points at {path} of type {node.Type}");
        }
    }

    [Fact]
    public void Names_short_names_and_categories_follow_the_api_conventions()
    {
        var crds = CrdGenerator.Generate().ToDictionary(c => c.Spec.Names.Kind);
        Assert.Equal(["BuilderPool", "CacheVolume", "RegistryCacheTarget", "SecretBinding"], crds.Keys.Order());
        foreach (var (kind, shortName) in new[] { ("BuilderPool", "bp"), ("CacheVolume", "cv"), ("SecretBinding", "sb"), ("RegistryCacheTarget", "rct") })
        {
            var crd = crds[kind];
            Assert.Equal([shortName], crd.Spec.Names.ShortNames);
            Assert.Equal(["buildpool"], crd.Spec.Names.Categories);
            Assert.Equal("Namespaced", crd.Spec.Scope);
            Assert.Equal("buildpool.dev", crd.Spec.Group);
            Assert.Equal(kind + "List", crd.Spec.Names.ListKind);
            Assert.Equal($"{crd.Spec.Names.Plural}.buildpool.dev", crd.Metadata.Name);
            Assert.Equal("v1alpha1", crd.Spec.Versions.Single().Name);
        }
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Conditions_follow_the_metav1_condition_shape(string kind)
    {
        var crd = Crd(kind);
        var conditions = SchemaWalk.At(crd, "status.conditions");
        Assert.Equal("map", conditions.XKubernetesListType);
        Assert.Equal(["type"], conditions.XKubernetesListMapKeys);
        var item = (V1JSONSchemaProps)conditions.Items;
        Assert.Equal(["lastTransitionTime", "message", "reason", "status", "type"], item.Required);
        Assert.Equal(["True", "False", "Unknown"], item.Properties["status"].EnumProperty.Cast<string>());
        Assert.Equal("date-time", item.Properties["lastTransitionTime"].Format);
        Assert.Equal("integer", item.Properties["observedGeneration"].Type);
        Assert.Equal("integer", SchemaWalk.At(crd, "status.observedGeneration").Type);
    }

    [Fact]
    public void Generation_is_deterministic_and_the_yaml_reads_back_as_the_same_crds()
    {
        var first = CrdGenerator.GenerateYamlFiles();
        var second = CrdGenerator.GenerateYamlFiles();
        Assert.Equal(first, second);
        var generated = CrdGenerator.Generate().ToDictionary(CrdGenerator.FileName);
        foreach (var (name, text) in first)
        {
            Assert.StartsWith("buildpool.dev_", name, StringComparison.Ordinal);
            var crd = KubernetesYaml.Deserialize<V1CustomResourceDefinition>(text);
            Assert.Equal(name, CrdGenerator.FileName(crd));
            Assert.Equal(text, CrdGenerator.ToYaml(crd));

            // Typed defaults (4, true, 1.25) must not come back as strings from YAML.
            Assert.Equal(KubernetesJson.Serialize(generated[name]), KubernetesJson.Serialize(crd));
        }
    }
}
