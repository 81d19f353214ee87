using Grpc.Core;

namespace BuildPool.BuildKit.Client;

/// <summary>A daemon call failed after retries; the message names the builder and the call.</summary>
public sealed class BuildKitUnavailableException : Exception
{
    public BuildKitUnavailableException(string address, string method, Exception inner)
        : base($"buildkitd at {address}: {method} failed: {Describe(inner)}", inner)
    {
        Address = address;
        Method = method;
    }

    public BuildKitUnavailableException()
    {
        Address = Method = string.Empty;
    }

    public BuildKitUnavailableException(string message)
        : base(message)
    {
        Address = Method = string.Empty;
    }

    public BuildKitUnavailableException(string message, Exception inner)
        : base(message, inner)
    {
        Address = Method = string.Empty;
    }

    public string Address { get; }

    public string Method { get; }

    private static string Describe(Exception ex) => ex switch
    {
        RpcException rpc => $"{rpc.StatusCode}: {rpc.Status.Detail}",
        _ => ex.Message,
    };
}
