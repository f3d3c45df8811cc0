using Platform.Authentication;

namespace Platform.Auth.Sessions;

public static class RevocationsApi
{
    /// <summary>
    /// The revocations whose tokens may still be valid somewhere, from the database, for validators that cannot read
    /// them from Redis (<c>RevocationsFromAuth</c>). Unauthenticated like the JWK set beside it: it lists ids of sessions
    /// that are over, which open nothing; the gateway does not route <c>/internal</c>.
    /// </summary>
    public static IEndpointRouteBuilder MapRevocationsApi(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet(RevocationList.Path, async (RecentRevocations recent, CancellationToken cancellationToken) =>
            TypedResults.Ok(await recent.GetAsync().WaitAsync(cancellationToken))).ExcludeFromDescription();
        return endpoints;
    }
}

/// <summary>
/// The list <see cref="RevocationsApi"/> serves, read at most once a second per auth pod whoever asks: during a Redis
/// outage every validator asks every few seconds, and the answer must not cost the primary a query each.
/// </summary>
public sealed class RecentRevocations(RevocationPropagator propagator, TimeProvider clock)
{
    private static readonly TimeSpan Freshness = TimeSpan.FromSeconds(1);

    private readonly Lock gate = new();
    private DateTimeOffset readAt;
    private Task<RevocationList>? reading;

    /// <summary>The list being read, or read less than a second ago; a failed read is not kept.</summary>
    public Task<RevocationList> GetAsync()
    {
        lock (gate)
        {
            var now = clock.GetUtcNow();
            if (reading is { } current && (!current.IsCompleted || (current.IsCompletedSuccessfully && now - readAt < Freshness)))
            {
                return current;
            }
            readAt = now;
            return reading = ReadAsync(now);
        }
    }

    private async Task<RevocationList> ReadAsync(DateTimeOffset now)
    {
        var recent = await propagator.RecentAsync(now, CancellationToken.None);
        return new RevocationList([.. recent.Select(r => new RevocationEntry(r.Id, r.RevokedAt + propagator.Relevance))]);
    }
}
