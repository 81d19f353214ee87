namespace BuildPool.LocalApi.Validation.Cel;

/// <summary>A rule that does not parse, or whose evaluation fails (no such key, no such overload), with CEL's words.</summary>
internal sealed class CelException(string message) : Exception(message);
