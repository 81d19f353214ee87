namespace BuildPool.Lint.Parsing;

/// <summary>A Dockerfile BuildKit would refuse too; <see cref="Line"/> is 1-based.</summary>
public sealed class DockerfileParseException : Exception
{
    public DockerfileParseException()
    {
    }

    public DockerfileParseException(string message)
        : base(message)
    {
    }

    public DockerfileParseException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public DockerfileParseException(int line, string message)
        : base(message) => Line = line;

    public int Line { get; }
}
