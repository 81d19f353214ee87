namespace BuildPool.Gateway.Builds;

// What BuildRouter.Decide says about a build.
internal enum RoutingVerdict
{
    // Its calls go to a builder now.
    Route,

    // It waits for something that makes a better route possible, then is decided again.
    Hold,

    // No builder may take it; its calls fail with the reason.
    Refuse,
}
