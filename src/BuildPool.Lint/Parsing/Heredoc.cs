namespace BuildPool.Lint.Parsing;

/// <summary>
/// A here-document of a RUN, COPY or ADD: <c>&lt;&lt;EOF</c> up to a line <c>EOF</c>. The body keeps
/// its lines as written (with leading tabs removed for <c>&lt;&lt;-</c>), each ending in a newline.
/// </summary>
public sealed record Heredoc(string Name, string Body, bool StripTabs, bool Quoted, int Line);
