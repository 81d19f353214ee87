using System.Text.Json.Nodes;
using BuildPool.TestDoubles;

namespace BuildPool.Packaging.Tests;

public sealed class ChartValuesTests
{
    private static readonly IReadOnlyList<ChartTemplate> Templates = [.. ChartPaths.AllTemplateFiles().Select(ChartTemplate.Load)];

    [Fact]
    public void Every_Values_path_a_template_reads_is_in_values_yaml()
    {
        var values = ChartValues.Load();
        var references = Templates.SelectMany(t => t.ValueReferences.Select(r => (Template: t.Name, Reference: r))).ToList();

        var missing = references
            .Select(x => (x.Template, x.Reference, Why: ChartValues.Missing(values, x.Reference.Path)))
            .Where(x => x.Why is not null)
            .Select(x => $"{x.Template}:{x.Reference.Line}: .Values.{x.Reference.Path}: {x.Why}")
            .ToList();

        Assert.True(references.Count > 20, $"the scanner found only {references.Count} .Values reads; it no longer understands the templates");
        Assert.True(missing.Count == 0, "Templates read values that values.yaml does not define:\n" + string.Join('\n', missing));
    }

    [Fact]
    public void Every_value_in_values_yaml_is_read_by_a_template()
    {
        var read = Templates.SelectMany(t => t.ValueReferences).Select(r => r.Path).ToHashSet(StringComparer.Ordinal);
        static bool Covers(string reference, string leaf) =>
            reference == leaf || leaf.StartsWith(reference + ".", StringComparison.Ordinal) || reference.StartsWith(leaf + ".", StringComparison.Ordinal);

        var unread = ChartValues.Leaves(ChartValues.Load()).Where(leaf => !read.Any(r => Covers(r, leaf))).ToList();

        Assert.True(unread.Count == 0, "values.yaml has settings no template reads (dead settings mislead users):\n" + string.Join('\n', unread));
    }

    [Fact]
    public void The_default_pool_values_are_the_defaults_of_the_BuilderPool_CRD()
    {
        var defaultPool = (JsonObject)ChartValues.Load()["defaultPool"]!;
        var crd = YamlJson.Load(File.ReadAllText(Path.Combine(RepositoryPaths.Crds, "buildpool.dev_builderpools.yaml")))!;
        var spec = crd["spec"]!["versions"]![0]!["schema"]!["openAPIV3Schema"]!["properties"]!["spec"]!;

        var mismatches = new List<string>();
        foreach (var leaf in ChartValues.Leaves(defaultPool).Where(l => l != "name"))
        {
            var schema = leaf.Split('.').Aggregate((JsonNode?)spec, (s, segment) => s?["properties"]?[segment]);
            var documented = leaf.Split('.').Aggregate((JsonNode?)defaultPool, (v, segment) => v?[segment]);
            if (schema is null)
            {
                mismatches.Add($"defaultPool.{leaf}: the CRD has no spec.{leaf}");
            }
            else if (schema["default"] is not { } crdDefault)
            {
                mismatches.Add($"defaultPool.{leaf}: spec.{leaf} has no default in the CRD");
            }
            else if (!JsonNode.DeepEquals(crdDefault, documented))
            {
                mismatches.Add($"defaultPool.{leaf}: values.yaml says {documented?.ToJsonString()}, the CRD defaults to {crdDefault.ToJsonString()}");
            }
        }

        Assert.True(mismatches.Count == 0, "values.yaml documents defaults the CRD does not have:\n" + string.Join('\n', mismatches));
    }

    [Fact]
    public void Image_references_in_values_name_no_registry_host()
    {
        var values = ChartValues.Load();
        string?[] images = [(string?)values["image"]?["repository"], (string?)values["gateway"]?["image"], (string?)values["defaultPool"]?["builder"]?["image"]];

        foreach (var image in images.Where(i => !string.IsNullOrEmpty(i)))
        {
            var first = image!.Split('/')[0];
            // Docker's rule: the first component is a registry host when it has a '.' or ':' or is localhost.
            Assert.False(image.Contains('/', StringComparison.Ordinal) && (first.Contains('.', StringComparison.Ordinal) || first.Contains(':', StringComparison.Ordinal) || first == "localhost"),
                $"{image} names a registry host; users prefix the repository with their own registry");
        }
    }
}
