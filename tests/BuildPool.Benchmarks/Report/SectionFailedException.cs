namespace BuildPool.Benchmarks.Report;

/// <summary>
/// A section whose measurement itself went wrong (e.g. a build failed that must not): it still has
/// a table to show, so the document keeps it, and the run exits non-zero so nobody reads the
/// numbers as a success.
/// </summary>
internal sealed class SectionFailedException : Exception
{
    public SectionFailedException()
        : this(string.Empty, "the section failed")
    {
    }

    public SectionFailedException(string message)
        : this(string.Empty, message)
    {
    }

    public SectionFailedException(string message, Exception innerException)
        : base(message, innerException) => Section = string.Empty;

    public SectionFailedException(string section, string message)
        : base(message) => Section = section;

    /// <summary>The section's markdown, with what failed.</summary>
    public string Section { get; }
}
