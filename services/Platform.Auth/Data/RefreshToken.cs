namespace Platform.Auth.Data;

/// <summary>
/// One link of a session's refresh-token chain, stored as the SHA-256 of the token (the token itself is never
/// stored). A spent link is kept until it expires, so presenting it again is recognised as reuse.
/// </summary>
public sealed class RefreshToken
{
    public byte[] Hash { get; set; } = [];

    public Guid SessionId { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset ExpiresAt { get; set; }

    public DateTimeOffset? SpentAt { get; set; }
}
