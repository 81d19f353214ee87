namespace BuildPool.Gateway.Builds;

// What a held build waits for (BuildRouter's Hold).
internal enum BuildHoldKind
{
    // Its key's builder is stopped or starting, or (Dedicated) its volume does not exist yet.
    BuilderStart,

    // Its key's Private volume is at capacity: a free overflow fork, or a slot on the volume.
    OverflowFork,

    // An untrusted build: its own isolated fork of the key's volume.
    IsolatedFork,
}
