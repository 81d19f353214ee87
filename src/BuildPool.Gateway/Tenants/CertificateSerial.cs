namespace BuildPool.Gateway.Tenants;

/// <summary>
/// Serial numbers as the directory compares them: uppercase hex without separators or leading
/// zero bytes. The operator writes <c>X509Certificate2.SerialNumber</c>, which keeps a leading
/// <c>00</c> when the top bit is set; a hand-written serial may drop it or use colons.
/// </summary>
public static class CertificateSerial
{
    /// <summary>The canonical form of <paramref name="serial"/>; empty when it has no hex digits.</summary>
    public static string Normalize(string? serial)
    {
        if (string.IsNullOrEmpty(serial))
        {
            return string.Empty;
        }

        Span<char> buffer = serial.Length <= 256 ? stackalloc char[serial.Length] : new char[serial.Length];
        var length = 0;
        foreach (var c in serial)
        {
            if (char.IsAsciiHexDigit(c))
            {
                buffer[length++] = char.ToUpperInvariant(c);
            }
        }

        var start = 0;
        while (start < length - 1 && buffer[start] == '0')
        {
            start++;
        }

        return new string(buffer[start..length]);
    }
}
