using Grpc.Core;

namespace BuildPool.TestDoubles;

/// <summary>The outcome of one call the fake buildx client made.</summary>
/// <param name="Method">e.g. <c>Info</c>, <c>ListWorkers</c>, <c>Status</c>, <c>Session</c>, <c>Solve</c>, <c>Ping</c>.</param>
/// <param name="Bootstrap">True for the calls made on their own connections before the build.</param>
/// <param name="Builder">The <c>x-fake-builder</c> response header, when a fake builder answered.</param>
public sealed record FakeBuildxCall(string Method, bool Bootstrap, StatusCode Status, string? Message, string? Builder)
{
    public bool Succeeded => Status == StatusCode.OK;
}
