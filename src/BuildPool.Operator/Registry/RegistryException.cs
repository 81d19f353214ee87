namespace BuildPool.Operator.Registry;

/// <summary>A registry call failed; <see cref="Kind"/> says how, the message says what the registry said.</summary>
public sealed class RegistryException : Exception
{
    public RegistryException()
    {
    }

    public RegistryException(string message)
        : base(message)
    {
    }

    public RegistryException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public RegistryException(RegistryErrorKind kind, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Kind = kind;
    }

    public RegistryErrorKind Kind { get; } = RegistryErrorKind.Failed;
}
