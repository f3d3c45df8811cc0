using System.Collections.Concurrent;

namespace Platform.Authentication;

/// <summary>
/// The sessions whose tokens must be refused, each until the time after which none of its tokens could still
/// be valid anyway. Consulted on every request, so it lives in memory; <see cref="RevokedSessionsSync"/>
/// keeps it in step with Redis.
/// </summary>
internal sealed class RevokedSessions(TimeProvider time)
{
    private readonly ConcurrentDictionary<Guid, DateTimeOffset> revokedUntil = new();

    public int Count => revokedUntil.Count;

    /// <summary>Raised for every revocation recorded (new, extended or repeated), with the session id.</summary>
    public event Action<Guid>? Revoked;

    public bool IsRevoked(Guid sessionId) =>
        revokedUntil.TryGetValue(sessionId, out var until) && until > time.GetUtcNow();

    /// <summary>Revocations only ever extend: a late or repeated message never shortens one.</summary>
    public void Revoke(Guid sessionId, DateTimeOffset until)
    {
        revokedUntil.AddOrUpdate(sessionId, until, (_, known) => known >= until ? known : until);
        if (until > time.GetUtcNow())
        {
            Revoked?.Invoke(sessionId);
        }
    }

    public void RemoveExpired()
    {
        var now = time.GetUtcNow();
        foreach (var (sessionId, until) in revokedUntil)
        {
            if (until <= now)
            {
                revokedUntil.TryRemove(new KeyValuePair<Guid, DateTimeOffset>(sessionId, until));
            }
        }
    }
}
