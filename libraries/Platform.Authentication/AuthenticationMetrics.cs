using System.Diagnostics.Metrics;

namespace Platform.Authentication;

/// <summary>
/// What bearer-token validation reports, exported as <c>token_cache_requests_total{result}</c> (the gateway
/// names it <c>gateway_token_cache_requests_total</c>),
/// <c>auth_token_validation_failures_total{reason}</c>, <c>auth_jwks_fetches_total{result}</c> and
/// <c>auth_redis_calls_total</c>.
/// </summary>
internal sealed class AuthenticationMetrics
{
    public const string MeterName = "Platform.Authentication";

    private static readonly KeyValuePair<string, object?> Hit = new("result", "hit");
    private static readonly KeyValuePair<string, object?> Miss = new("result", "miss");
    private static readonly KeyValuePair<string, object?> Success = new("result", "success");
    private static readonly KeyValuePair<string, object?> Failure = new("result", "failure");

    private readonly Counter<long> tokenCacheRequests;
    private readonly Counter<long> validationFailures;
    private readonly Counter<long> jwksFetches;
    private readonly Counter<long> redisCalls;

    public const string DefaultTokenCacheInstrument = "token_cache.requests";

    public AuthenticationMetrics(IMeterFactory meterFactory, string tokenCacheInstrument = DefaultTokenCacheInstrument)
    {
        var meter = meterFactory.Create(MeterName);
        tokenCacheRequests = meter.CreateCounter<long>(tokenCacheInstrument, unit: "{request}",
            description: "Bearer tokens looked up in the validated-token cache, by whether the cache could answer.");
        validationFailures = meter.CreateCounter<long>("auth.token_validation_failures", unit: "{token}",
            description: "Bearer tokens refused, by reason.");
        jwksFetches = meter.CreateCounter<long>("auth.jwks.fetches", unit: "{fetch}",
            description: "Fetches of the issuer's JWK set, by result.");
        redisCalls = meter.CreateCounter<long>("auth.redis.calls", unit: "{call}",
            description: "Redis calls made to keep the revoked-session set: on start and reconnect only, never per request.");
    }

    public void TokenCacheRequest(bool hit) => tokenCacheRequests.Add(1, hit ? Hit : Miss);

    public void ValidationFailed(string reason) => validationFailures.Add(1, new KeyValuePair<string, object?>("reason", reason));

    public void JwksFetched(bool succeeded) => jwksFetches.Add(1, succeeded ? Success : Failure);

    public void RedisCalled() => redisCalls.Add(1);
}
