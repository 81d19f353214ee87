namespace BuildPool.Lint.Rules;

/// <summary>A credential file (<c>.npmrc</c>, <c>.netrc</c>, an SSH key …) copied into a layer.</summary>
internal sealed class SecretFileCopied : ILintRule
{
    public const string Id = "secret-file-copied";

    public IEnumerable<Finding> Check(LintInput input)
    {
        foreach (var copy in input.StageInstructions.Where(i => (i.Is("COPY") || i.Is("ADD")) && i.Flag("from") is null))
        {
            var (sources, destination) = CopySources.Of(copy, input.Escape);
            var file = copy.Heredocs.Count > 0
                ? (destination is not null && SecretNames.IsCredentialFile(destination) ? destination : null)
                : sources.FirstOrDefault(SecretNames.IsCredentialFile);
            if (file is not null)
            {
                var name = Path.GetFileName(file.TrimEnd('/'));
                yield return new Finding(
                    Id,
                    Severity.Error,
                    copy.Line,
                    $"{copy.Keyword} puts the credential file {file} into a layer",
                    "the file stays in this layer even if a later step deletes it: it is in the image, in the builder's cache and in any exported cache; a new token also invalidates this step and everything after it",
                    $"mount it only for the step that needs it: RUN --mount=type=secret,id={name.TrimStart('.')},target=/root/{name} … with `docker buildx build --secret id={name.TrimStart('.')},src={name}`");
            }
        }
    }
}
