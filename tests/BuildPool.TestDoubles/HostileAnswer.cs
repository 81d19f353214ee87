namespace BuildPool.TestDoubles;

/// <summary>What a <see cref="HostileBuilder"/> sends back for one request, and what it does after.</summary>
public sealed record HostileAnswer
{
    /// <summary>Bytes written to the connection, one write each (frames, parts of frames, or garbage).</summary>
    public IReadOnlyList<byte[]> Writes { get; init; } = [];

    /// <summary>Pause between writes: a slow drip.</summary>
    public TimeSpan Gap { get; init; }

    /// <summary>After the writes: keep the connection open, close it, or reset it.</summary>
    public HostileEnd End { get; init; } = HostileEnd.KeepOpen;

    /// <summary>Stop reading the connection after the writes, so the gateway's writes back up.</summary>
    public bool StopReading { get; init; }

    /// <summary>A short description for counters and failure messages.</summary>
    public string Kind { get; init; } = "custom";
}
