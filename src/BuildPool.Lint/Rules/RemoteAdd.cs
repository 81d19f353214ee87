namespace BuildPool.Lint.Rules;

/// <summary><c>ADD https://…</c> without <c>--checksum</c>: an unpinned download whose content decides the cache of every later step.</summary>
internal sealed class RemoteAdd : ILintRule
{
    public const string Id = "add-remote-url";

    public IEnumerable<Finding> Check(LintInput input)
    {
        foreach (var add in input.StageInstructions.Where(i => i.Is("ADD") && i.Flag("checksum") is null))
        {
            var url = CopySources.Of(add, input.Escape).Sources.FirstOrDefault(s => s.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || s.StartsWith("https://", StringComparison.OrdinalIgnoreCase));
            if (url is not null)
            {
                yield return new Finding(
                    Id,
                    Severity.Info,
                    add.Line,
                    $"ADD downloads {url} without --checksum",
                    "every build asks the server again whether the file changed; when it did, this step and every later one re-run, and nothing in the Dockerfile shows that the input changed",
                    "pin the content with ADD --checksum=sha256:<digest> <url> (Dockerfile 1.6 and later), or download a versioned URL in a RUN and verify it");
            }
        }
    }
}
