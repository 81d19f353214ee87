using System.CommandLine;
using System.Text;
using System.Text.Json.Nodes;
using BuildPool.Api.V1Alpha1;
using BuildPool.Host.Cluster;
using BuildPool.Operator;
using BuildPool.Operator.Hosting;
using k8s;

namespace BuildPool.Host.Commands;

/// <summary><c>buildpool render -f pool.yaml</c>: prints what the operator would create, offline.</summary>
public static class RenderCommand
{
    public static Command Create()
    {
        var files = new Option<string[]>("--filename", "-f") { Description = "YAML file or directory of BuilderPool and CacheVolume resources; repeatable.", Required = true };
        var gatewayImage = new Option<string>("--gateway-image") { Description = "Image the gateway Deployments run.", DefaultValueFactory = _ => "buildpool:latest" };
        var command = new Command("render", "Print every object the operator would create for the given resources, as YAML.") { files, gatewayImage };
        command.SetAction(async (parse, cancellationToken) =>
        {
            try
            {
                var text = await RenderAsync(parse.GetValue(files)!, new OperatorOptions { GatewayImage = parse.GetValue(gatewayImage)! }, cancellationToken);
                await Console.Out.WriteAsync(text);
                return 0;
            }
            catch (Exception ex) when (ex is IOException or InvalidDataException or UnauthorizedAccessException or System.Text.Json.JsonException or YamlDotNet.Core.YamlException)
            {
                await Console.Error.WriteLineAsync($"buildpool render: {ex.Message}");
                return 1;
            }
        });
        return command;
    }

    public static async Task<string> RenderAsync(IEnumerable<string> paths, OperatorOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(paths);
        var pools = new List<BuilderPool>();
        var volumes = new List<CacheVolume>();
        foreach (var file in paths.SelectMany(Expand))
        {
            foreach (var doc in ManifestApplier.ReadDocuments(await File.ReadAllTextAsync(file, cancellationToken)))
            {
                switch (Kind(doc))
                {
                    case (GroupVersion.ApiVersion, BuilderPool.KubeKind):
                        pools.Add(Deserialize<BuilderPool>(doc, file));
                        break;
                    case (GroupVersion.ApiVersion, CacheVolume.KubeKind):
                        volumes.Add(Deserialize<CacheVolume>(doc, file));
                        break;
                    default:
                        // Other kinds create nothing of their own here (yet); skip them quietly.
                        break;
                }
            }
        }

        var objects = OfflineRenderer.Render(pools, volumes, options);
        var output = new StringBuilder();
        foreach (var obj in objects)
        {
            output.Append("---\n").Append(KubernetesYaml.Serialize(obj).ReplaceLineEndings("\n"));
            if (output[^1] != '\n')
            {
                output.Append('\n');
            }
        }

        return output.ToString();
    }

    private static IEnumerable<string> Expand(string path) =>
        Directory.Exists(path)
            ? Directory.GetFiles(path, "*.yaml").Concat(Directory.GetFiles(path, "*.yml")).Order(StringComparer.Ordinal)
            : File.Exists(path) ? [path] : throw new FileNotFoundException($"{path}: no such file or directory");

    private static (string?, string?) Kind(JsonObject doc) => (doc["apiVersion"]?.GetValue<string>(), doc["kind"]?.GetValue<string>());

    private static T Deserialize<T>(JsonObject doc, string file)
    {
        try
        {
            return KubernetesJson.Deserialize<T>(doc.ToJsonString());
        }
        catch (System.Text.Json.JsonException ex)
        {
            throw new InvalidDataException($"{file}: {doc["kind"]} {doc["metadata"]?["name"]}: {ex.Message}", ex);
        }
    }
}
