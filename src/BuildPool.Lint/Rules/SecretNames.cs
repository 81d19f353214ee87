namespace BuildPool.Lint.Rules;

/// <summary>Names and file names that hold credentials.</summary>
internal static class SecretNames
{
    private static readonly HashSet<string> SecretWords = new(StringComparer.Ordinal)
    {
        "TOKEN", "PASSWORD", "PASSWD", "SECRET", "SECRETS", "CREDENTIAL", "CREDENTIALS", "APIKEY", "PAT",
    };

    // A KEY next to one of these is public or not a key at all.
    private static readonly HashSet<string> HarmlessKeyWords = new(StringComparer.Ordinal) { "GPG", "PGP", "PUBLIC", "PUB", "CACHE", "ID", "SORT", "PRIMARY" };

    // Names of where a secret is, not the secret.
    private static readonly HashSet<string> PointerWords = new(StringComparer.Ordinal) { "FILE", "PATH", "DIR", "ID", "URL" };

    private static readonly HashSet<string> CredentialFiles = new(StringComparer.Ordinal)
    {
        ".npmrc", ".netrc", ".pypirc", ".git-credentials", ".pgpass", ".s3cfg", ".dockercfg",
        "id_rsa", "id_dsa", "id_ecdsa", "id_ed25519", "credentials", "credentials.json",
    };

    public static bool IsSecretName(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var words = name.ToUpperInvariant().Split('_', '-', '.');
        if (words.Any(PointerWords.Contains))
        {
            return false;
        }

        return words.Any(SecretWords.Contains) || (words.Contains("KEY") && !words.Any(HarmlessKeyWords.Contains));
    }

    public static bool IsCredentialFile(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var trimmed = path.TrimEnd('/');
        return CredentialFiles.Contains(Path.GetFileName(trimmed)) || trimmed.EndsWith(".docker/config.json", StringComparison.Ordinal);
    }
}
