using System.Globalization;
using Platform.Authentication;

namespace Platform.Auth.Sessions;

public static class RevocationsApi
{
    /// <summary>
    /// The revocations whose tokens may still be valid somewhere, from the database, for validators that cannot read
    /// them from Redis (<c>RevocationsFromAuth</c>). Unauthenticated like the JWK set beside it: it lists ids of sessions
    /// that are over, which open nothing; the gateway does not route <c>/internal</c>. With <c>?since=</c> (an ISO 8601
    /// time, in practice a previous answer's <c>asOf</c> less an overlap) only those revoked after it: a validator that
    /// asks every few seconds through a Redis outage fetches what is new, not the whole list again.
    /// </summary>
    public static IEndpointRouteBuilder MapRevocationsApi(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet(RevocationList.Path, async (string? since, RecentRevocations recent, CancellationToken cancellationToken) =>
        {
            DateTimeOffset? after = null;
            if (since is not null)
            {
                if (!DateTimeOffset.TryParse(since, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed))
                {
                    return AuthProblems.Validation(new Dictionary<string, string[]>
                    {
                        ["since"] = ["since must be a date and time in ISO 8601, e.g. 2026-12-07T10:00:00Z."],
                    });
                }
                after = parsed;
            }
            return TypedResults.Ok((await recent.GetAsync().WaitAsync(cancellationToken)).After(after));
        }).ExcludeFromDescription();
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
    private Task<Snapshot>? reading;

    /// <summary>The list being read, or read less than a second ago; a failed read is not kept.</summary>
    public Task<Snapshot> GetAsync()
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

    private async Task<Snapshot> ReadAsync(DateTimeOffset now) =>
        new(await propagator.RecentAsync(now, CancellationToken.None), now, propagator.Relevance);

    /// <summary>The recent revocations as read at <paramref name="AsOf"/>.</summary>
    public sealed record Snapshot(IReadOnlyList<RevocationPropagator.Revocation> Recent, DateTimeOffset AsOf, TimeSpan Relevance)
    {
        /// <summary>Those revoked after <paramref name="since"/> (all without it), each with the time until which it matters.</summary>
        public RevocationList After(DateTimeOffset? since) =>
            new([.. Recent.Where(r => since is not { } after || r.RevokedAt > after).Select(r => new RevocationEntry(r.Id, r.RevokedAt + Relevance))], AsOf);
    }
}
