using System.Text.Json.Nodes;
using BuildPool.LocalApi.Patching;
using BuildPool.LocalApi.Tables;

namespace BuildPool.LocalApi.Tests;

/// <summary>Table tests for the pure pieces: durations, JSONPath cells and patch directives.</summary>
public sealed class HelperTests
{
    [Theory]
    [InlineData(5, "5s")]
    [InlineData(119, "119s")]
    [InlineData(150, "2m30s")]
    [InlineData(600, "10m")]
    [InlineData(3 * 3600 + 120, "3h2m")]
    [InlineData(30 * 3600, "30h")]
    [InlineData(3 * 86400 + 3600, "3d1h")]
    [InlineData(40 * 86400, "40d")]
    public void Age_is_formatted_like_kubectl(int seconds, string expected) =>
        Assert.Equal(expected, HumanDuration.Format(TimeSpan.FromSeconds(seconds)));

    [Theory]
    [InlineData(".spec.replicas", "3")]
    [InlineData(".status.conditions[?(@.type==\"Ready\")].status", "\"False\"")]
    [InlineData(".status.conditions[1].type", "\"Synced\"")]
    [InlineData(".status.conditions[*].type", "\"Ready\",\"Synced\"")]
    [InlineData(".spec.missing", "")]
    public void Printer_column_paths_select_values(string path, string expected)
    {
        var obj = JsonNode.Parse("""{"spec":{"replicas":3},"status":{"conditions":[{"type":"Ready","status":"False"},{"type":"Synced","status":"True"}]}}""")!;

        var values = SimpleJsonPath.Evaluate(obj, path);

        Assert.Equal(expected, string.Join(',', values.Select(v => v.ToJsonString())));
    }

    [Theory]
    [InlineData("""{"a":{"b":1,"c":2}}""", """{"a":{"b":null,"d":3}}""", """{"a":{"c":2,"d":3}}""")]
    [InlineData("""{"list":[1,2]}""", """{"list":[3]}""", """{"list":[3]}""")]
    public void Merge_patch_follows_rfc_7386(string target, string patch, string expected) =>
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(expected), MergePatch.Apply(JsonNode.Parse(target), JsonNode.Parse(patch))));

    [Theory]
    [InlineData(
        """{"metadata":{"finalizers":["a","b"]}}""",
        """{"metadata":{"$deleteFromPrimitiveList/finalizers":["a"],"finalizers":["c"]}}""",
        """{"metadata":{"finalizers":["b","c"]}}""")]
    [InlineData(
        """{"containers":[{"name":"a","image":"1"},{"name":"b","image":"1"}]}""",
        """{"$setElementOrder/containers":[{"name":"a"}],"containers":[{"name":"b","$patch":"delete"}]}""",
        """{"containers":[{"name":"a","image":"1"}]}""")]
    [InlineData(
        """{"spec":{"x":1,"y":2}}""",
        """{"spec":{"$patch":"replace","z":3}}""",
        """{"spec":{"z":3}}""")]
    [InlineData(
        """{"ports":[{"containerPort":80,"name":"http"}]}""",
        """{"ports":[{"containerPort":80,"protocol":"TCP"},{"containerPort":443}]}""",
        """{"ports":[{"containerPort":80,"name":"http","protocol":"TCP"},{"containerPort":443}]}""")]
    public void Strategic_merge_patch_handles_kubectl_directives(string target, string patch, string expected)
    {
        var result = StrategicMergePatch.Apply(JsonNode.Parse(target), JsonNode.Parse(patch));

        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(expected), result), result?.ToJsonString());
    }

    [Fact]
    public void Json_patch_supports_add_remove_replace_move_copy_and_test()
    {
        var doc = JsonNode.Parse("""{"a":[1,2],"b":{"c":1}}""")!;
        var patch = JsonNode.Parse("""
            [{"op":"test","path":"/b/c","value":1},
             {"op":"add","path":"/a/-","value":3},
             {"op":"remove","path":"/a/0"},
             {"op":"replace","path":"/b/c","value":2},
             {"op":"copy","from":"/b","path":"/d"},
             {"op":"move","from":"/d/c","path":"/e"}]
            """);

        var result = JsonPatch.Apply(doc, patch);

        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"a":[2,3],"b":{"c":2},"d":{},"e":2}"""), result), result.ToJsonString());
    }
}
