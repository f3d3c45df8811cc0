using System.Text;
using System.Text.Json.Nodes;

namespace Platform.Reliability.Tests.Corpus;

/// <summary>
/// Bodies a JSON route must refuse without failing: broken syntax, nesting past any parser's limit, wrong types
/// and hostile values in each field of a valid template, invalid UTF-8, and seeded random mutations.
/// </summary>
public static class HostileJson
{
    public static readonly string[] Malformed =
    [
        "", " ", "\uFEFF", "{", "}", "[", "{\"a\":", "{\"a\" 1}", "{'a':1}", "{a:1}", "{\"a\":1,}", "[1,2,]", "{} {}", "{\"a\":1}garbage",
        "nul", "tru", "NaN", "Infinity", "-", "01", "1e", "\"unterminated", "\"\\x41\"", "\"\\u12\"", "{\"a\":\"\\uD800\\u0041\"",
        "/* comment */ {}", "{\"a\":1 // comment\n}", "\0", "\0{}", "{\"\0\":1}", "{\"a\":1}\0", "{\"a\":\"line\nbreak\"}", "\t\r\n",
        "null", "[]", "\"a string\"", "123", "true", "{}", "[{}]", "{\"__proto__\":{\"admin\":true}}",
    ];

    /// <summary>Values to put in place of each field of a valid body, as raw JSON text.</summary>
    public static readonly string[] HostileValues =
    [
        "0", "-1", "1e400", "-1e400", "1.5", "99999999999999999999999999999999", "true", "false", "null", "[]", "{}", "[\"a\"]",
        "{\"nested\":{\"deeper\":[1,2,{\"x\":null}]}}", "\"\"", "\" \"", "\"\\u0000\"", "\"a\\u0000b\"", "\"\\u0001\\u0002\\u001f\\u007f\"",
        "\"\\ud800\"", "\"\\udfff\\ud800\"", "\"\\u202e\\u2066gnp.exe\"", "\"\\r\\nX-Injected: 1\"", "\"<script>alert(1)</script>\"",
        "\"'; DROP TABLE tasks; --\"", "\"${jndi:ldap://x}\"", "\"%s%s%s%n\"", "\"../../../../etc/passwd\"", "\"2026-13-45T99:99:99Z\"",
        "\"9999-12-31T23:59:59Z\"", "\"0001-01-01T00:00:00+14:00\"", "\"1970-01-01\"", "\"todo \"", "\"DONE\"", "\"\\ufeff\"",
        Quoted(new string('a', 20_000)), Quoted(string.Concat(Enumerable.Repeat("\U0001F600", 5_000))), Quoted(string.Concat(Enumerable.Repeat("\\u0000", 2_000))),
        Nested("[", "]", 200), Nested("{\"a\":", "}", 200),
    ];

    /// <summary>Nesting far past System.Text.Json's default depth (64) and past any sensible recursion.</summary>
    public static readonly string[] DeeplyNested =
    [
        Nested("[", "]", 100), Nested("[", "]", 10_000), Nested("{\"a\":", "}", 1_000), Nested("{\"a\":", "}", 50_000), Nested("[", "", 100_000),
    ];

    /// <summary>Bytes that are not UTF-8 (or not the UTF-8 declared), inside otherwise valid JSON.</summary>
    public static IEnumerable<(string Kind, byte[] Body)> InvalidUtf8(string template)
    {
        var field = FirstStringField(template);
        foreach (var (kind, bytes) in new (string, byte[])[]
                 {
                     ("lone continuation byte", [0x80]), ("truncated sequence", [0xC3]), ("overlong slash", [0xC0, 0xAF]),
                     ("surrogate encoded in UTF-8", [0xED, 0xA0, 0x80]), ("0xFF", [0xFF]), ("0xFE 0xFF", [0xFE, 0xFF]),
                     ("beyond U+10FFFF", [0xF4, 0x90, 0x80, 0x80]), ("five-byte form", [0xF8, 0x88, 0x80, 0x80, 0x80]),
                     ("raw NUL", [0x00]), ("raw control", [0x01, 0x1B, 0x7F]),
                 })
        {
            yield return ($"invalid UTF-8: {kind}", Encoding.UTF8.GetBytes($"{{\"{field}\":\"a").Concat(bytes).Concat(Encoding.UTF8.GetBytes("b\"}")).ToArray());
        }
        yield return ("UTF-16 body", Encoding.Unicode.GetBytes(template));
        yield return ("UTF-32 body", Encoding.UTF32.GetBytes(template));
        yield return ("UTF-8 with BOM", [0xEF, 0xBB, 0xBF, .. Encoding.UTF8.GetBytes(template)]);
    }

    /// <summary>The template with one field replaced by a hostile value, or removed, or duplicated, or joined by an unknown one.</summary>
    public static IEnumerable<(string Kind, string Body)> FieldVariants(string template)
    {
        var fields = JsonNode.Parse(template)!.AsObject().Select(pair => pair.Key).ToList();
        foreach (var field in fields)
        {
            foreach (var value in HostileValues)
            {
                yield return ($"{field} = {Describe(value)}", Replace(template, field, value));
            }
            yield return ($"without {field}", Remove(template, field));
            yield return ($"{field} twice", template.TrimEnd('}') + $",\"{field}\":{{}}}}");
        }
        yield return ("unknown field", template.TrimEnd('}') + ",\"isAdmin\":true}");
        yield return ("server-owned field id", template.TrimEnd('}') + ",\"id\":\"00000000-0000-0000-0000-000000000001\"}");
        yield return ("field names differing in case", template.ToUpperInvariant());
    }

    /// <summary>A valid body changed by a few random byte-level edits: how a fuzzer finds what lists miss.</summary>
    public static byte[] Mutate(string template, Random random)
    {
        var bytes = new List<byte>(Encoding.UTF8.GetBytes(template));
        byte[] tokens = [.. "{}[]\",:\\0-.eE\0\u0001"u8, 0x80, 0xC3, 0xFF];
        for (var edits = random.Next(1, 5); edits > 0 && bytes.Count > 0; edits--)
        {
            var at = random.Next(bytes.Count);
            switch (random.Next(5))
            {
                case 0: bytes[at] = (byte)random.Next(256); break;
                case 1: bytes.Insert(at, tokens[random.Next(tokens.Length)]); break;
                case 2: bytes.RemoveRange(at, Math.Min(random.Next(1, 8), bytes.Count - at)); break;
                case 3: bytes.InsertRange(at, bytes.GetRange(at, Math.Min(random.Next(1, 16), bytes.Count - at))); break;
                default: bytes[at] = tokens[random.Next(tokens.Length)]; break;
            }
        }
        return [.. bytes];
    }

    private static string Replace(string template, string field, string value)
    {
        var node = JsonNode.Parse(template)!.AsObject();
        node.Remove(field);
        var rest = node.ToJsonString();
        return rest == "{}" ? $"{{\"{field}\":{value}}}" : $"{{\"{field}\":{value},{rest[1..]}";
    }

    private static string Remove(string template, string field)
    {
        var node = JsonNode.Parse(template)!.AsObject();
        node.Remove(field);
        return node.ToJsonString();
    }

    private static string FirstStringField(string template) =>
        JsonNode.Parse(template)!.AsObject().First(pair => pair.Value is JsonValue value && value.TryGetValue<string>(out _)).Key;

    private static string Quoted(string text) => "\"" + text + "\"";

    private static string Nested(string open, string close, int depth) =>
        string.Concat(Enumerable.Repeat(open, depth)) + "1" + string.Concat(Enumerable.Repeat(close, depth));

    private static string Describe(string value) => value.Length <= 40 ? value : $"{value[..20]}… ({value.Length} chars)";
}
