using BuildPool.TestDoubles;

/// <summary>What the fake reads of a rendered buildkitd.toml: the <c>[grpc.tls]</c> files.</summary>
internal static class FakeBuildkitdConfig
{
    public static FakeBuilderTls? Tls(string toml)
    {
        string? cert = null, key = null, ca = null;
        var table = string.Empty;
        foreach (var raw in toml.Split('\n'))
        {
            var line = raw.Trim();
            if (line.StartsWith('['))
            {
                table = line;
                continue;
            }

            var eq = line.IndexOf('=', StringComparison.Ordinal);
            if (table != "[grpc.tls]" || eq < 0)
            {
                continue;
            }

            var value = line[(eq + 1)..].Trim().Trim('"');
            switch (line[..eq].Trim())
            {
                case "cert":
                    cert = value;
                    break;
                case "key":
                    key = value;
                    break;
                case "ca":
                    ca = value;
                    break;
            }
        }

        return cert is null || key is null
            ? null
            : FakeBuilderTls.FromBuildkitdFiles(File.ReadAllText(cert), File.ReadAllText(key), ca is null ? File.ReadAllText(cert) : File.ReadAllText(ca));
    }
}
