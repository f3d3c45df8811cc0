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
        endpoints.MapGet(RevocationList.Path, async (RevocationPropagator propagator, TimeProvider clock, CancellationToken cancellationToken) =>
        {
            var recent = await propagator.RecentAsync(clock.GetUtcNow(), cancellationToken);
            return TypedResults.Ok(new RevocationList([.. recent.Select(r => new RevocationEntry(r.Id, r.RevokedAt + propagator.Relevance))]));
        }).ExcludeFromDescription();
        return endpoints;
    }
}
