using System.Globalization;
using System.Text;

namespace BuildPool.Host.Dev;

/// <summary>
/// The builder container's arguments and its <c>buildkitd.toml</c> as they must differ on this
/// machine, and only that: the daemon listens on its own loopback port instead of
/// <c>tcp://0.0.0.0:1234</c> (every builder here shares one network namespace), the unix socket
/// under <c>/run/user/1000</c> is dropped (nothing here uses it; the probe is the TCP port), and
/// paths under the pod's mounts (state root, config, TLS files) point at the folders that stand for
/// them. Everything else (GC policy, registries, TLS, worker flags) is the operator's as rendered.
/// </summary>
internal static class BuildkitdArguments
{
    /// <summary>
    /// The flags the pod's rootless daemon needs and a daemon of this machine's root refuses
    /// (buildkitd: "can't enable NoProcessSandbox without Rootless").
    /// </summary>
    public static readonly IReadOnlySet<string> RootlessOnly = new HashSet<string>(StringComparer.Ordinal) { "--oci-worker-no-process-sandbox" };

    /// <param name="args">The container's arguments.</param>
    /// <param name="files">The pod's mounts on this machine.</param>
    /// <param name="port">The loopback port to listen on.</param>
    /// <param name="privileged">Whether buildkitd runs as root here, where the rootless flags do not apply.</param>
    public static List<string> Rewrite(IList<string> args, PodFiles files, int port, bool privileged)
    {
        var listen = $"tcp://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}";
        var result = new List<string>();
        string? config = null;
        for (var i = 0; i < args.Count; i++)
        {
            var (flag, value, joined) = Split(args, i);
            if (flag == "--addr")
            {
                if (value?.StartsWith("tcp://", StringComparison.Ordinal) == true)
                {
                    result.Add("--addr");
                    result.Add(listen);
                }

                i += joined ? 0 : 1;
                continue;
            }

            if (flag == "--config" && value is not null)
            {
                config = files.Rewrite(value);
                result.Add("--config");
                result.Add(config);
                i += joined ? 0 : 1;
                continue;
            }

            if (privileged && RootlessOnly.Contains(args[i]))
            {
                continue;
            }

            result.Add(files.Rewrite(args[i]));
        }

        if (config is not null && File.Exists(config))
        {
            // The config is this pod's own copy of the ConfigMap: rewriting it changes nothing the operator owns.
            File.WriteAllText(config, Config(files.Rewrite(File.ReadAllText(config)), listen));
        }

        return result;
    }

    /// <summary><paramref name="toml"/> with <c>[grpc] address</c> set to <paramref name="listen"/> alone.</summary>
    public static string Config(string toml, string listen)
    {
        var output = new StringBuilder();
        var table = string.Empty;
        foreach (var line in toml.Split('\n'))
        {
            var trimmed = line.Trim();
            if (trimmed.StartsWith('['))
            {
                table = trimmed;
            }

            output.Append(table == "[grpc]" && trimmed.StartsWith("address", StringComparison.Ordinal) && trimmed.Contains('=', StringComparison.Ordinal)
                ? line[..line.IndexOf('a', StringComparison.Ordinal)] + $"address = [\"{listen}\"]"
                : line);
            output.Append('\n');
        }

        return output.ToString(0, output.Length - 1);
    }

    private static (string Flag, string? Value, bool Joined) Split(IList<string> args, int i)
    {
        var arg = args[i];
        var eq = arg.IndexOf('=', StringComparison.Ordinal);
        if (arg.StartsWith("--", StringComparison.Ordinal) && eq > 0)
        {
            return (arg[..eq], arg[(eq + 1)..], true);
        }

        return (arg, i + 1 < args.Count ? args[i + 1] : null, false);
    }
}
