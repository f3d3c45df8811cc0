using System.Buffers.Text;

namespace Platform.Api.Paging;

/// <summary>
/// The opaque <c>nextCursor</c>: base64url of a format byte and the last id of the page (big-endian, the byte
/// order in which PostgreSQL compares uuids). Pages are ordered by id descending; ids are UUIDv7, so a row
/// inserted while a client pages gets a larger id and never shifts the pages still to come. Shared by every
/// collection keyed by UUIDv7 (tasks, auth's users and audit log).
/// </summary>
public static class PageCursor
{
    private const byte Format = 1;

    public static string Encode(Guid lastId)
    {
        var bytes = new byte[17];
        bytes[0] = Format;
        lastId.TryWriteBytes(bytes.AsSpan(1), bigEndian: true, out _);
        return Base64Url.EncodeToString(bytes);
    }

    public static bool TryDecode(string text, out Guid lastId)
    {
        lastId = default;
        if (text.Length != 23 || text.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '-' or '_')))
        {
            return false;
        }
        Span<byte> bytes = stackalloc byte[18];
        if (!Base64Url.TryDecodeFromChars(text, bytes, out var written) || written != 17 || bytes[0] != Format)
        {
            return false;
        }
        lastId = new Guid(bytes[1..17], bigEndian: true);
        return true;
    }
}
