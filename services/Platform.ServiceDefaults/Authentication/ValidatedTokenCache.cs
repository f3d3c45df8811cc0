using System.Collections.Concurrent;
using System.Security.Claims;
using Microsoft.Extensions.Options;

namespace Platform.ServiceDefaults.Authentication;

/// <summary>
/// Identities of tokens that passed validation, so a token's signature is checked once and not on every
/// request (ES256 costs ~70 µs). An entry is served only while its token is unexpired and its session is not
/// revoked — both checked on every hit. The cache never holds more than its capacity: when full, expired and
/// revoked entries are swept out, and if none are, new tokens are simply not cached.
/// </summary>
internal sealed class ValidatedTokenCache
{
    /// <summary>A full cache of live tokens would otherwise be swept on every insert.</summary>
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

    private sealed record Entry(ClaimsIdentity Identity, Guid SessionId, DateTimeOffset ExpiresAt);

    public int Count => Volatile.Read(ref count);

    /// <summary>A principal of its own for this request: endpoints and claims transformations may change it.</summary>
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
        principal = new ClaimsPrincipal(entry.Identity.Clone());
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
        if (full && Volatile.Read(ref count) >= capacity)
        {
            return;
        }
        if (entries.TryAdd(key, new Entry(identity, sessionId, expiresAt)))
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
