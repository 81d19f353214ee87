using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace BuildPool.Gateway.Server;

/// <summary>gRPC statuses the gateway answers itself, and reading the status a forwarded call ended with.</summary>
public static class GrpcStatusResponse
{
    public const int Ok = 0;
    public const int InvalidArgument = 3;
    public const int Unimplemented = 12;
    public const int ResourceExhausted = 8;
    public const int PermissionDenied = 7;
    public const int Unavailable = 14;

    /// <summary>
    /// A trailers-only response (one HEADERS frame with END_STREAM carrying grpc-status and the
    /// percent-encoded grpc-message), as gRPC servers answer a call they reject before any message.
    /// When the response has started (the gateway wrote progress messages of its own), the status
    /// goes in its trailers instead.
    /// </summary>
    public static void Write(HttpResponse response, int status, string message)
    {
        ArgumentNullException.ThrowIfNull(response);
        if (response.HasStarted)
        {
            if (response.SupportsTrailers())
            {
                response.AppendTrailer("grpc-status", status.ToString(CultureInfo.InvariantCulture));
                response.AppendTrailer("grpc-message", Uri.EscapeDataString(message));
            }

            return;
        }

        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "application/grpc";
        response.Headers["grpc-status"] = status.ToString(CultureInfo.InvariantCulture);
        response.Headers["grpc-message"] = Uri.EscapeDataString(message);
    }

    /// <summary>The grpc-status of the response (header for trailers-only, else trailer); -1 when none.</summary>
    public static int Read(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (TryParse(context.Response.Headers["grpc-status"], out var status))
        {
            return status;
        }

        return context.Features.Get<IHttpResponseTrailersFeature>()?.Trailers is { } trailers && TryParse(trailers["grpc-status"], out status)
            ? status
            : -1;
    }

    private static bool TryParse(Microsoft.Extensions.Primitives.StringValues values, out int status)
    {
        status = -1;
        return values.Count > 0 && int.TryParse(values[^1], NumberStyles.None, CultureInfo.InvariantCulture, out status);
    }
}
