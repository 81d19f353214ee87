using System.Text.Json.Nodes;

namespace BuildPool.Packaging.Tests;

public sealed class ServerSideApplyTests
{
    /// <summary>Every port in every manifest under config/, with where it is.</summary>
    private static IEnumerable<(string Where, JsonObject Port)> Ports(JsonNode? node, string where)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var (key, value) in obj)
                {
                    if (key == "ports" && value is JsonArray ports)
                    {
                        foreach (var port in ports.OfType<JsonObject>())
                        {
                            yield return ($"{where}.ports[{port["name"]}]", port);
                        }
                    }

                    foreach (var found in Ports(value, $"{where}.{key}"))
                    {
                        yield return found;
                    }
                }

                break;
            case JsonArray array:
                foreach (var found in array.SelectMany(item => Ports(item, where)))
                {
                    yield return found;
                }

                break;
        }
    }

    [Fact]
    public void Every_port_in_config_names_its_protocol_so_server_side_apply_accepts_the_list()
    {
        var ports = Directory.EnumerateFiles(ChartPaths.Config, "*.yaml", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}crd{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .SelectMany(f => YamlJson.LoadAll(File.ReadAllText(f)).SelectMany(doc => Ports(doc, Path.GetRelativePath(ChartPaths.Config, f))))
            .ToList();

        Assert.NotEmpty(ports);
        Assert.All(ports, p => Assert.True(p.Port["protocol"] is not null, $"{p.Where} has no protocol"));
    }
}
