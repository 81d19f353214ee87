namespace BuildPool.TestDoubles;

/// <summary>How a <see cref="HostileBuilder"/> leaves a connection after answering.</summary>
public enum HostileEnd
{
    /// <summary>Stay connected (and keep reading unless told otherwise).</summary>
    KeepOpen,

    /// <summary>Close the connection cleanly (FIN).</summary>
    Close,

    /// <summary>Reset the connection (RST).</summary>
    Abort,
}
