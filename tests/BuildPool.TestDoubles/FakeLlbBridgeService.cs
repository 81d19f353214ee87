using BuildPool.TestDoubles.Protocol.Frontend;
using Grpc.Core;

namespace BuildPool.TestDoubles;

/// <summary>The frontend gateway calls buildx makes during a build; each belongs to the build its metadata names.</summary>
internal sealed class FakeLlbBridgeService(FakeBuilds builds) : LLBBridge.LLBBridgeBase
{
    public override Task<PongResponse> Ping(PingRequest request, ServerCallContext context) => builds.PingAsync(context);
}
