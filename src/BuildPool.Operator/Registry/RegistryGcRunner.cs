using System.Globalization;
using BuildPool.Api.Units;
using BuildPool.Api.V1Alpha1;

namespace BuildPool.Operator.Registry;

/// <summary>
/// <c>buildpool registry-gc</c>: one retention pass for CI pipelines, printing each tag deleted
/// (or, with --dry-run, that would be) and a summary line. Exit codes: 0 done, 1 the registry
/// failed us, 2 bad input.
/// </summary>
public static class RegistryGcRunner
{
    public const int Ok = 0;
    public const int Failed = 1;
    public const int BadInput = 2;

    public static async Task<int> RunAsync(RegistryGcRequest request, TextWriter output, TextWriter error, TimeProvider time, CancellationToken cancellationToken, HttpMessageHandler? handler = null)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        if (!CacheRef.TryParse(request.Ref, out var cacheRef, out var refError))
        {
            await error.WriteLineAsync($"buildpool registry-gc: --ref: {refError}").ConfigureAwait(false);
            return BadInput;
        }

        var policy = new CacheRetentionPolicy { MaxAge = request.MaxAge, MaxTags = request.MaxTags, MaxBytes = request.MaxBytes };
        if (!RetentionLimits.TryFrom(policy, "", out var limits, out var limitErrors))
        {
            foreach (var e in limitErrors)
            {
                await error.WriteLineAsync($"buildpool registry-gc: --{e.TrimStart('.').Split(':')[0].ToKebab()}:{e[(e.IndexOf(':', StringComparison.Ordinal) + 1)..]}").ConfigureAwait(false);
            }

            return BadInput;
        }

        if (limits.IsNone)
        {
            await error.WriteLineAsync("buildpool registry-gc: give at least one of --max-age, --max-tags, --max-bytes").ConfigureAwait(false);
            return BadInput;
        }

        if (request.Password is not null && string.IsNullOrEmpty(request.Username))
        {
            await error.WriteLineAsync("buildpool registry-gc: --password-stdin needs --username").ConfigureAwait(false);
            return BadInput;
        }

        var credentials = string.IsNullOrEmpty(request.Username) ? null : new RegistryCredentials(request.Username, request.Password ?? "");
        using var client = new RegistryClient(RegistryClient.EndpointFor(cacheRef.Host, request.PlainHttp), credentials, handler, time);
        var verb = request.DryRun ? "would delete" : "deleted";
        try
        {
            var result = await new RegistryGc(client, time).RunAsync(
                cacheRef,
                limits,
                request.DryRun,
                d => output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{verb} {cacheRef.Host}/{d.Tag.Reference} {d.Tag.Digest} {Quantity.FormatApproximate(d.Tag.Bytes)}: {d.Reason}")),
                cancellationToken).ConfigureAwait(false);

            if (!result.Inventory.Listed)
            {
                await error.WriteLineAsync($"buildpool registry-gc: {result.Inventory.NotListedReason}").ConfigureAwait(false);
                return Failed;
            }

            foreach (var spared in result.Plan.Spared)
            {
                await output.WriteLineAsync($"kept {cacheRef.Host}/{spared.Tag.Reference}: {spared.Reason}").ConfigureAwait(false);
            }

            await output.WriteLineAsync(
                $"{(request.DryRun ? "dry run: would delete" : "deleted")} {result.Deleted.Count} of {result.Inventory.Tags.Count} cache tags under {cacheRef} ({limits}), "
                + $"{(request.DryRun ? "freeing" : "freed")} {Quantity.FormatApproximate(result.FreedBytes)} ({result.FreedBytes} bytes); "
                + $"{(request.DryRun ? result.Plan.Keep.Count : result.TagsAfter)} tags, {Quantity.FormatApproximate(result.Plan.BytesAfter)} {(request.DryRun ? "would remain" : "remain")}").ConfigureAwait(false);
            return Ok;
        }
        catch (RegistryException ex)
        {
            await error.WriteLineAsync($"buildpool registry-gc: {ex.Kind}: {ex.Message}").ConfigureAwait(false);
            return Failed;
        }
    }

    private static string ToKebab(this string field) => field switch
    {
        "maxAge" => "max-age",
        "maxTags" => "max-tags",
        "maxBytes" => "max-bytes",
        _ => field,
    };
}
