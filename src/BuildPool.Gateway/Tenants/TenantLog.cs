using Microsoft.Extensions.Logging;

namespace BuildPool.Gateway.Tenants;

internal static partial class TenantLog
{
    [LoggerMessage(EventId = 600, Level = LogLevel.Information, Message = "{Scope}: {Count} tenants may build ({Summary})")]
    public static partial void TenantsChanged(ILogger logger, string scope, int count, string summary);

    [LoggerMessage(EventId = 601, Level = LogLevel.Warning, Message = "Refused {Path}: {Message}")]
    public static partial void Refused(ILogger logger, string path, string message);

    [LoggerMessage(EventId = 602, Level = LogLevel.Warning, Message = "Build {Ref} of tenant {Tenant}: {Message}")]
    public static partial void QueueTimedOut(ILogger logger, string @ref, string tenant, string message);

    [LoggerMessage(EventId = 603, Level = LogLevel.Warning, Message = "TLS handshake refused: client certificate {Subject} (serial {Serial}) does not chain to the client CA")]
    public static partial void UntrustedCertificate(ILogger logger, string subject, string serial);

    [LoggerMessage(EventId = 604, Level = LogLevel.Warning, Message = "TLS handshake refused: {Message}")]
    public static partial void NotForClientAuth(ILogger logger, string message);
}
