namespace BuildPool.Operator.Registry;

/// <summary>The credentials for a target, or why there are none (a reason for a condition and a message naming the field).</summary>
public sealed record CredentialLookup(RegistryCredentials? Credentials, string? FailureReason = null, string? FailureMessage = null)
{
    public static readonly CredentialLookup Anonymous = new(Credentials: null);

    public bool Failed => FailureReason is not null;
}
