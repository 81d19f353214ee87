using System.Text;
using BuildPool.BuildKit.Wire;

namespace BuildPool.Gateway.Server;

/// <summary>
/// How long the client-chosen strings the gateway keeps while it tracks a build may be (from
/// <see cref="GatewayOptions"/>). A call with a longer one is refused before anything is kept:
/// BuildKit's own ids are about 25 bytes, so the limits only ever stop a broken or hostile client.
/// </summary>
internal sealed record BuildInputLimits(int MaxIdLength, int MaxSharedKeyLength, int MaxRoutingKeyLength)
{
    public static BuildInputLimits Of(GatewayOptions options) => new(options.MaxIdLength, options.MaxSharedKeyLength, options.MaxRoutingKeyLength);

    /// <summary>Why a Session call is refused (null: it is not).</summary>
    public string? Session(string? sessionId, string? sharedKey, string? authority) =>
        Over("session id", sessionId, MaxIdLength, "--max-id-length")
        ?? Over("shared key", sharedKey, MaxSharedKeyLength, "--max-shared-key-length")
        ?? Authority(authority);

    /// <summary>Why a Solve or Status call is refused (a Status carries only its ref).</summary>
    public string? Request(in SolveRequestFields request, string? authority) =>
        Over("build ref", request.Ref, MaxIdLength, "--max-id-length")
        ?? Over("session id", request.Session, MaxIdLength, "--max-id-length")
        ?? Over("image name", request.ImageName, MaxRoutingKeyLength, "--max-routing-key-length")
        ?? Over("cache ref", request.CacheRef, MaxRoutingKeyLength, "--max-routing-key-length")
        ?? Authority(authority);

    /// <summary>Why an LLBBridge call is refused.</summary>
    public string? Bridge(string? buildId, string? authority) =>
        Over("build id", buildId, MaxIdLength, "--max-id-length") ?? Authority(authority);

    // The authority can be a routing key (its first label under --domain) and is kept with the build.
    private string? Authority(string? authority) => Over(":authority", authority, MaxRoutingKeyLength, "--max-routing-key-length");

    private static string? Over(string field, string? value, int limit, string flag)
    {
        if (value is null || value.Length * 3 <= limit)
        {
            // Cheap common case: even all three-byte characters would fit.
            return null;
        }

        var bytes = Encoding.UTF8.GetByteCount(value);
        return bytes > limit ? $"{field} is {bytes} bytes, over the gateway's limit of {limit} ({flag})" : null;
    }
}
