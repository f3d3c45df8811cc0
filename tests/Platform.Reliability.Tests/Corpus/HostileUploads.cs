using System.Text;

namespace Platform.Reliability.Tests.Corpus;

/// <summary>File names that try to escape a directory, hide an extension or inject a header, and multipart bodies of every wrong shape.</summary>
public static class HostileUploads
{
    public static readonly string[] FileNames =
    [
        "../../../../etc/passwd", "..\\..\\..\\windows\\win.ini", "/etc/shadow", "C:\\boot.ini", "%2e%2e%2f%2e%2e%2fetc%2fpasswd", "..", ".", "",
        " ", "...", "a/b/c/", "\u202Egnp.exe", "report\u2066.pdf\u2069.exe", "a\u0000b.txt", "line\r\nX-Injected: 1", "tab\there", "\u0085next",
        new string('n', 5_000) + ".txt", string.Concat(Enumerable.Repeat("\u00E9", 300)) + ".png", "\U0001F4A9.txt", "con", "aux.txt", "file:///etc/passwd",
        "\"quoted\".txt", "semi;colon=1.txt", "%00.txt", "\uFEFFbom.txt",
    ];

    public static readonly string[] ContentTypes =
    [
        "text/html", "image/svg+xml", "application/x-msdownload", "*/*", "text/*", ";;;", "not a type", "text/plain; charset=\"", "a/b/c",
        "application/octet-stream; x=" + new string('y', 2_000), "text/html\u0000", "",
    ];

    /// <summary>(kind, content type, body): multipart shapes the upload parser must refuse or survive.</summary>
    public static IEnumerable<(string Kind, string ContentType, byte[] Body)> MultipartShapes()
    {
        const string b = "corpusboundary";
        static byte[] Text(string s) => Encoding.UTF8.GetBytes(s.Replace("\n", "\r\n", StringComparison.Ordinal));
        var file = $"--{b}\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\nContent-Type: text/plain\n\nhello\n--{b}--\n";
        yield return ("no boundary parameter", "multipart/form-data", Text(file));
        yield return ("empty boundary", "multipart/form-data; boundary=", Text(file));
        yield return ("boundary of 200 characters", "multipart/form-data; boundary=" + new string('x', 200), Text(file));
        yield return ("body uses another boundary", "multipart/form-data; boundary=other", Text(file));
        yield return ("empty body", $"multipart/form-data; boundary={b}", []);
        yield return ("only the closing boundary", $"multipart/form-data; boundary={b}", Text($"--{b}--\n"));
        yield return ("no file part", $"multipart/form-data; boundary={b}", Text($"--{b}\nContent-Disposition: form-data; name=\"note\"\n\nhi\n--{b}--\n"));
        yield return ("unterminated", $"multipart/form-data; boundary={b}", Text($"--{b}\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\n\nhello"));
        yield return ("part without headers", $"multipart/form-data; boundary={b}", Text($"--{b}\n\nhello\n--{b}--\n"));
        yield return ("part without blank line", $"multipart/form-data; boundary={b}", Text($"--{b}\nContent-Disposition: form-data; name=\"file\"; filename=\"a\"\nhello\n--{b}--\n"));
        yield return ("garbage disposition", $"multipart/form-data; boundary={b}", Text($"--{b}\nContent-Disposition: ;;;==\n\nhello\n--{b}--\n"));
        yield return ("part header of 100 KB", $"multipart/form-data; boundary={b}", Text($"--{b}\nContent-Disposition: form-data; name=\"file\"; filename=\"{new string('h', 100_000)}\"\n\nhello\n--{b}--\n"));
        yield return ("two hundred parts", $"multipart/form-data; boundary={b}", Text(string.Concat(Enumerable.Repeat($"--{b}\nContent-Disposition: form-data; name=\"x\"\n\n1\n", 200)) + $"--{b}--\n"));
        yield return ("nested multipart", $"multipart/form-data; boundary={b}", Text($"--{b}\nContent-Disposition: form-data; name=\"file\"; filename=\"n\"\nContent-Type: multipart/mixed; boundary=inner\n\n--inner\n\nx\n--inner--\n--{b}--\n"));
        yield return ("preamble of garbage", $"multipart/form-data; boundary={b}", [0xFF, 0x00, 0xC3, .. Text("\n" + file)]);
        yield return ("wrong multipart subtype", $"multipart/mixed; boundary={b}", Text(file));
        foreach (var name in new[] { "../../etc/passwd", "\u202Etxt.exe", "a\u0000b", "" })
        {
            yield return ($"multipart filename {Describe(name)}", $"multipart/form-data; boundary={b}",
                Text($"--{b}\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\n\nhello\n--{b}--\n"));
        }
        yield return ("multipart filename* RFC 5987 with an override", $"multipart/form-data; boundary={b}",
            Text($"--{b}\nContent-Disposition: form-data; name=\"file\"; filename*=UTF-8''%E2%80%AEtxt.exe%2F..%2F..\n\nhello\n--{b}--\n"));
    }

    public static string Describe(string name) => name.Length <= 30 ? name : $"{name[..12]}… ({name.Length} chars)";
}
