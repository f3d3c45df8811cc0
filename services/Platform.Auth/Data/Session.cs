using System.Net;

namespace Platform.Auth.Data;

/// <summary>A login: the <c>sid</c> of its access tokens and the owner of its refresh-token chain.</summary>
public sealed class Session
{
    public Guid Id { get; set; }

    public Guid UserId { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>The last activity written (refresh or activity call); writes are coalesced, so it may lag by the write interval.</summary>
    public DateTimeOffset LastActivityAt { get; set; }

    /// <summary>The absolute end: the session is over here whatever happens, and refresh tokens cannot extend it.</summary>
    public DateTimeOffset ExpiresAt { get; set; }

    public DateTimeOffset? RevokedAt { get; set; }

    /// <summary>Why the session ended: a revocation (logout, eviction, …) or an expiry closed by refresh or cleanup.</summary>
    public string? RevokedReason { get; set; }

    /// <summary>The client's address at login, as far as trusted proxies tell it.</summary>
    public IPAddress? IpAddress { get; set; }

    /// <summary>Browser and OS family from the login's User-Agent, e.g. "Firefox on Linux"; never the raw header.</summary>
    public string? Device { get; set; }
}
