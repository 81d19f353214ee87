namespace BuildPool.Gateway.Builds;

// Where one build's routing stands. A build starts Deciding (waiting, at most the decision wait,
// for the call that names its key), may be Holding (waiting for its builder to start, for a free
// overflow fork or for its isolated fork), and ends Routed: every call of it goes to its route.
// Whether its calls have ended is apart from this (BuildUnit.EndedAt): a late call of an ended
// build finds it where it stood.
internal enum BuildStage
{
    Deciding,
    Holding,
    Routed,
}
