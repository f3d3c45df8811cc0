using System.Collections.Concurrent;
using System.Security.Claims;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;

namespace Platform.Authentication;

/// <summary>
/// Identities of tokens that passed validation, so a token's signature is checked once and not on every
/// request (ES256 costs ~70 µs). An entry is served only while its token is unexpired and its session is not
/// revoked — both checked on every hit. The cache never holds more than its capacity: when full, expired and
/// revoked entries are swept out in the background, and until that makes room new tokens are simply not cached.
/// </summary>
internal sealed class ValidatedTokenCache
{
    /// <summary>A full cache of live tokens would otherwise be swept (~20–40 ms for 100k entries) on every insert.</summary>
    private static readonly TimeSpan MinimumSweepInterval = TimeSpan.FromSeconds(10);

    /// <summary>Expired entries are swept this often even when the cache is not full, to give the memory back.</summary>
    private static readonly TimeSpan MaximumSweepInterval = TimeSpan.FromMinutes(1);

    private readonly ConcurrentDictionary<TokenHash, Entry> entries = new();
    private readonly int capacity;
    private readonly RevokedSessions revoked;
    private readonly TimeProvider time;
    private int count;
    private int sweeping;
    private long lastSweepTimestamp;

    public ValidatedTokenCache(IOptions<AuthOptions> options, RevokedSessions revoked, TimeProvider time)
    {
        capacity = options.Value.TokenCacheCapacity;
        this.revoked = revoked;
        this.time = time;
        lastSweepTimestamp = time.GetTimestamp();
    }

    /// <summary>
    /// The claims as plain values, not the validator's identity: that one (and each of its claims, through
    /// <see cref="Claim.Subject"/>) keeps the whole parsed token alive — ~5 KB an entry instead of ~1 KB.
    /// </summary>
    private sealed record Entry(CachedClaim[] Claims, string? AuthenticationType, string NameClaimType, string RoleClaimType, Guid SessionId, DateTimeOffset ExpiresAt);

    private readonly record struct CachedClaim(string Type, string Value, string ValueType, string Issuer);

    public int Count => Volatile.Read(ref count);

    /// <summary>A principal of its own for each request: endpoints and claims transformations may change it.</summary>
    public bool TryGet(TokenHash key, out ClaimsPrincipal? principal)
    {
        principal = null;
        if (!entries.TryGetValue(key, out var entry))
        {
            return false;
        }
        if (!IsServable(entry, time.GetUtcNow()))
        {
            Remove(key, entry);
            return false;
        }
        // Case-sensitive claim lookups, as on the identity the validator made.
        var identity = new CaseSensitiveClaimsIdentity(entry.AuthenticationType, entry.NameClaimType, entry.RoleClaimType);
        foreach (var claim in entry.Claims)
        {
            // Made with the identity as its subject: a claim of another subject would be copied by AddClaim.
            identity.AddClaim(new Claim(claim.Type, claim.Value, claim.ValueType, claim.Issuer, claim.Issuer, identity));
        }
        principal = new ClaimsPrincipal(identity);
        return true;
    }

    public void Add(TokenHash key, ClaimsIdentity identity, Guid sessionId, DateTimeOffset expiresAt)
    {
        if (capacity == 0 || expiresAt <= time.GetUtcNow())
        {
            return;
        }
        var full = Volatile.Read(ref count) >= capacity;
        SweepIfDue(full);
        if (full)
        {
            return;
        }
        // Claim types are a handful of names repeated in every token: share the interned ones instead of holding a copy per entry.
        var claims = identity.Claims.Select(claim => new CachedClaim(string.IsInterned(claim.Type) ?? claim.Type, claim.Value, claim.ValueType, claim.Issuer)).ToArray();
        var entry = new Entry(claims, identity.AuthenticationType, identity.NameClaimType, identity.RoleClaimType, sessionId, expiresAt);
        if (entries.TryAdd(key, entry))
        {
            Interlocked.Increment(ref count);
        }
    }

    private bool IsServable(Entry entry, DateTimeOffset now) => entry.ExpiresAt > now && !revoked.IsRevoked(entry.SessionId);

    private void Remove(TokenHash key, Entry entry)
    {
        if (entries.TryRemove(new KeyValuePair<TokenHash, Entry>(key, entry)))
        {
            Interlocked.Decrement(ref count);
        }
    }

    private void SweepIfDue(bool full)
    {
        var sinceLastSweep = time.GetElapsedTime(Interlocked.Read(ref lastSweepTimestamp));
        if (sinceLastSweep < (full ? MinimumSweepInterval : MaximumSweepInterval) || Interlocked.Exchange(ref sweeping, 1) == 1)
        {
            return;
        }
        ThreadPool.UnsafeQueueUserWorkItem(static cache => cache.Sweep(), this, preferLocal: false);
    }

    private void Sweep()
    {
        try
        {
            var now = time.GetUtcNow();
            foreach (var (key, entry) in entries)
            {
                if (!IsServable(entry, now))
                {
                    Remove(key, entry);
                }
            }
        }
        finally
        {
            Interlocked.Exchange(ref lastSweepTimestamp, time.GetTimestamp());
            Volatile.Write(ref sweeping, 0);
        }
    }
}
