namespace BuildPool.Operator.Children;

/// <summary>A child's name is taken by an object BuildPool does not own; the parent is Stalled with this message.</summary>
public sealed class ChildConflictException : Exception
{
    public ChildConflictException()
    {
    }

    public ChildConflictException(string message)
        : base(message)
    {
    }

    public ChildConflictException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
