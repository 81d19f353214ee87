namespace BuildPool.Gateway.Routing;

/// <summary>A build's routing key and the source it was taken from (for logs and metrics).</summary>
public readonly record struct RoutingKey(string Value, RoutingKeySource Source);
