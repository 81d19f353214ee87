namespace BuildPool.Host.Logging;

/// <summary>How the operator and gateway write their log (<c>--log-format</c>).</summary>
public enum LogFormat
{
    /// <summary>One human-readable line per entry (the default).</summary>
    Text,

    /// <summary>One JSON object per line, for log pipelines (<see cref="JsonLineFormatter"/>).</summary>
    Json,
}
