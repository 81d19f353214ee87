namespace BuildPool.TestDoubles;

/// <summary>What a fake builder read from one Solve request: the parts the gateway routes on.</summary>
/// <param name="ExporterType">Exporter from field 13 (newer clients) or field 3 (older); null without one.</param>
/// <param name="ExporterImageName">The exporter's <c>name</c> attribute (the image), from field 13 or field 4.</param>
/// <param name="CacheExportRefs">The <c>ref</c> attribute of each cache export (field 8.4).</param>
/// <param name="CacheImportRefs">The <c>ref</c> attribute of each cache import (field 8.5).</param>
public sealed record FakeSolveRecord(
    string Builder,
    string Ref,
    string SessionId,
    string? ExporterType,
    string? ExporterImageName,
    IReadOnlyList<string> CacheExportRefs,
    IReadOnlyList<string> CacheImportRefs,
    string ConnectionId,
    DateTimeOffset ReceivedAt);
