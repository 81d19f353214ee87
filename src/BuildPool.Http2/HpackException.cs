namespace BuildPool.Http2;

/// <summary>A field block could not be decoded; the HPACK context is lost (COMPRESSION_ERROR).</summary>
internal sealed class HpackException(string message) : Exception(message);
