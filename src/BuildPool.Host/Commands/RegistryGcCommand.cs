using System.CommandLine;
using System.Globalization;
using BuildPool.Operator.Registry;

namespace BuildPool.Host.Commands;

/// <summary>
/// <c>buildpool registry-gc --ref host:port/repo --max-age 336h</c>: registry cache retention as a
/// one-shot command for CI. Exit codes: 0 done, 1 registry errors, 2 bad input.
/// </summary>
public static class RegistryGcCommand
{
    public static Command Create()
    {
        // Values are parsed here rather than by the parser so that every bad input exits with 2.
        var reference = new Option<string?>("--ref") { Description = "Registry host and repository (host:port/cache/app: every tag), or a cache ref template with {key} (host/cache/app:{key}, host/cache/{key})." };
        var maxAge = new Option<string?>("--max-age") { Description = "Delete tags pushed longer ago than this Go duration, like 336h." };
        var maxTags = new Option<string?>("--max-tags") { Description = "Keep at most this many tags, the most recently pushed." };
        var maxBytes = new Option<string?>("--max-bytes") { Description = "Delete the oldest tags while the cache holds more than this quantity, like 10Gi." };
        var dryRun = new Option<bool>("--dry-run") { Description = "Print what would be deleted; delete nothing." };
        var username = new Option<string?>("--username", "-u") { Description = "Registry user (for basic auth or the registry's token service)." };
        var passwordStdin = new Option<bool>("--password-stdin") { Description = "Read the password or token from standard input." };
        var plainHttp = new Option<bool>("--insecure", "--http") { Description = "Talk plain HTTP (loopback registries always do)." };
        var command = new Command("registry-gc", "Delete old BuildKit cache tags from a registry by retention limits, through the registry HTTP API v2.")
        {
            reference, maxAge, maxTags, maxBytes, dryRun, username, passwordStdin, plainHttp,
        };
        command.TreatUnmatchedTokensAsErrors = false;
        command.SetAction(async (parse, cancellationToken) =>
        {
            if (parse.UnmatchedTokens.Count > 0)
            {
                await Console.Error.WriteLineAsync($"buildpool registry-gc: unexpected argument {parse.UnmatchedTokens[0]}");
                return RegistryGcRunner.BadInput;
            }

            if (string.IsNullOrWhiteSpace(parse.GetValue(reference)))
            {
                await Console.Error.WriteLineAsync("buildpool registry-gc: --ref is required, like --ref registry.example.test:5000/cache/app");
                return RegistryGcRunner.BadInput;
            }

            int? tags = null;
            if (parse.GetValue(maxTags) is { } tagsText)
            {
                if (!int.TryParse(tagsText, NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n < 1)
                {
                    await Console.Error.WriteLineAsync($"buildpool registry-gc: --max-tags: \"{tagsText}\" is not a whole number of at least 1");
                    return RegistryGcRunner.BadInput;
                }

                tags = n;
            }

            string? password = null;
            if (parse.GetValue(passwordStdin))
            {
                password = (await Console.In.ReadToEndAsync(cancellationToken)).TrimEnd('\r', '\n');
            }

            var request = new RegistryGcRequest(
                parse.GetValue(reference)!,
                parse.GetValue(maxAge),
                tags,
                parse.GetValue(maxBytes),
                parse.GetValue(dryRun),
                parse.GetValue(username),
                password,
                parse.GetValue(plainHttp));
            return await RegistryGcRunner.RunAsync(request, Console.Out, Console.Error, TimeProvider.System, cancellationToken);
        });
        return command;
    }
}
