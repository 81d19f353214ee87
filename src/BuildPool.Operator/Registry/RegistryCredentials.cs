namespace BuildPool.Operator.Registry;

/// <summary>Username and password (or token) for a registry's basic auth or its token service.</summary>
public sealed record RegistryCredentials(string Username, string Password)
{
    // Records print every member; a password must never reach a log line.
    public override string ToString() => $"RegistryCredentials {{ Username = {Username} }}";
}
