namespace Platform.Reliability.Tests.Corpus;

/// <summary>Whose credentials a corpus request carries.</summary>
public enum Caller
{
    /// <summary>No Authorization header (anonymous routes).</summary>
    Anonymous,

    /// <summary>The corpus user's valid access token.</summary>
    User,

    /// <summary>A malformed or hostile Authorization header instead of a token.</summary>
    Junk,
}

/// <summary>
/// One hostile request: which route it aims at (for the report), what it varies (<see cref="Kind"/>), and exactly
/// what goes on the wire. <see cref="Headers"/> are sent without validation; a null body sends none.
/// </summary>
public sealed record CorpusRequest(
    string Route,
    string Kind,
    HttpMethod Method,
    string PathAndQuery,
    Caller Caller,
    byte[]? Body = null,
    string? ContentType = null,
    bool Chunked = false,
    IReadOnlyList<KeyValuePair<string, string>>? Headers = null)
{
    /// <summary>
    /// Kestrel refuses a path that decodes to a NUL, or a header holding one, before any application code runs,
    /// with a bare 400 no middleware can dress as problem details: for these only the 400 is required.
    /// </summary>
    /// <summary>
    /// An oversize chunked body: the server can refuse it only after reading past the limit, then closes the
    /// connection without reading the rest, and the reset may reach the client before the 413 does. A reset
    /// (no answer) is then as good as the 413; anything else is not.
    /// </summary>
    public bool MayBeCutOff => Chunked;

    public bool RefusedByKestrel =>
        PathAndQuery.Split('?')[0].Contains("%00", StringComparison.Ordinal)
        || (ContentType?.Contains('\0', StringComparison.Ordinal) ?? false)
        || (Headers ?? []).Any(header => header.Value.Contains('\0', StringComparison.Ordinal));

    public override string ToString() => $"{Method} {PathAndQuery} [{Kind}]";
}
