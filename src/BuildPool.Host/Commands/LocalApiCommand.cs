using System.CommandLine;
using BuildPool.LocalApi;

namespace BuildPool.Host.Commands;

/// <summary><c>buildpool localapi</c>: serves the local Kubernetes API until stopped.</summary>
public static class LocalApiCommand
{
    public static Command Create()
    {
        var port = new Option<int>("--port") { Description = "Port on 127.0.0.1 (0 picks a free one).", DefaultValueFactory = _ => 0 };
        var crds = new Option<DirectoryInfo?>("--crds") { Description = "Directory of CRD YAML files to install at start.", DefaultValueFactory = _ => new DirectoryInfo("crds") };
        var kubeconfig = new Option<FileInfo>("--kubeconfig") { Description = "Where to write a kubeconfig for kubectl and the operator.", DefaultValueFactory = _ => new FileInfo(".local/kubeconfig") };
        var data = new Option<FileInfo?>("--data") { Description = "Keep the objects in this file across restarts (none: in memory only)." };
        var command = new Command("localapi", "Serve a local Kubernetes API (for development and tests; not a cluster: nothing runs pods).") { port, crds, kubeconfig, data };
        command.SetAction(async (parse, cancellationToken) =>
        {
            await using var server = await StartAsync(parse.GetValue(port), parse.GetValue(crds), parse.GetValue(kubeconfig)!, parse.GetValue(data), cancellationToken);
            Console.WriteLine($"local Kubernetes API at {server.BaseAddress}; export KUBECONFIG={parse.GetValue(kubeconfig)!.FullName}");
            try
            {
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }
            catch (OperationCanceledException)
            {
            }

            return 0;
        });
        return command;
    }

    public static async Task<LocalApiServer> StartAsync(int port, DirectoryInfo? crds, FileInfo kubeconfig, FileInfo? data, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(kubeconfig);
        var server = new LocalApiServer(new LocalApiOptions
        {
            Port = port,
            CrdDirectory = crds is { Exists: true } ? crds.FullName : null,
            DataFile = data?.FullName,
        });
        await server.StartAsync(cancellationToken);
        kubeconfig.Directory?.Create();
        server.WriteKubeconfig(kubeconfig.FullName);
        return server;
    }
}
