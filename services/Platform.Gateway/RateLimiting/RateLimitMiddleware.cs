using Platform.Authentication;
using Platform.Gateway.Edge;
using Platform.Hosting.Problems;
using Yarp.ReverseProxy.Model;

namespace Platform.Gateway.RateLimiting;

public static class RateLimitMiddleware
{
    /// <summary>Route metadata naming the policy; "none" turns limiting off for the route.</summary>
    public const string PolicyMetadata = "RateLimitPolicy";

    public const string NoPolicy = "none";

    /// <summary>Route metadata: "true" lets <see cref="RateLimitOptions.ExemptNetworks"/> peers through unlimited.</summary>
    public const string ExemptPeersMetadata = "RateLimitExemptPeers";

    /// <summary>
    /// In the proxy pipeline, after authentication: anonymous routes are limited per client address by the
    /// policy their metadata names, authenticated ones per user (by default policy unless they name one).
    /// Every limited answer carries <c>RateLimit-Limit/Remaining/Reset</c>; a refusal is a 429 problem with
    /// <c>Retry-After</c>.
    /// </summary>
    public static IReverseProxyApplicationBuilder UseEdgeRateLimits(this IReverseProxyApplicationBuilder pipeline)
    {
        // Not an async lambda: a decision taken from this instance's lease (nearly every one) completes synchronously,
        // and the request then goes on without a state machine of its own; only a question to Redis awaits.
        pipeline.Use((context, next) =>
        {
            var limiter = context.RequestServices.GetRequiredService<EdgeRateLimiter>();
            var policyName = PolicyFor(context, limiter);
            if (policyName is null || (ExemptsPeers(context) && limiter.IsExempt(EdgePeer.Of(context))))
            {
                return next(context);
            }
            limiter.TryGetPolicy(policyName, out var policy);
            var key = policy.Key == RateLimitKey.User && context.User.UserId() is { } userId
                ? EdgeRateLimiter.UserKey(policyName, userId)
                : EdgeRateLimiter.AddressKey(policyName, context.Connection.RemoteIpAddress);
            var decision = limiter.AcquireAsync(policyName, key);
            return decision.IsCompletedSuccessfully
                ? Apply(context, next, limiter, policyName, policy, decision.Result)
                : ApplyWhenDecidedAsync(context, next, limiter, policyName, policy, decision);
        });
        return pipeline;
    }

    private static async Task ApplyWhenDecidedAsync(HttpContext context, RequestDelegate next, EdgeRateLimiter limiter, string policyName,
        RateLimitPolicyOptions policy, ValueTask<RateLimitDecision> decision) =>
        await Apply(context, next, limiter, policyName, policy, await decision);

    /// <summary>The decision's headers on the answer, then the request goes on or is refused with a 429.</summary>
    private static Task Apply(HttpContext context, RequestDelegate next, EdgeRateLimiter limiter, string policyName, RateLimitPolicyOptions policy,
        RateLimitDecision decision)
    {
        var headers = context.Response.Headers;
        headers["RateLimit-Limit"] = NumberText.Of(decision.Limit);
        headers["RateLimit-Remaining"] = NumberText.Of(decision.Remaining);
        headers["RateLimit-Reset"] = Seconds(decision.ResetMicroseconds);
        headers["RateLimit-Policy"] = limiter.PolicyHeader(policyName);
        if (decision.Allowed)
        {
            return next(context);
        }
        context.RequestServices.GetRequiredService<GatewayMetrics>().RateLimited(policyName);
        var retryAfter = Seconds(decision.RetryAfterMicroseconds);
        headers.RetryAfter = retryAfter;
        return context.WriteProblemAsync(StatusCodes.Status429TooManyRequests, ProblemTypes.TooManyRequests, "Too many requests.",
            $"The '{policyName}' limit is {policy.Limit} requests per {policy.WindowSeconds} s; retry after {retryAfter} s.").AsTask();
    }

    private static string? PolicyFor(HttpContext context, EdgeRateLimiter limiter)
    {
        if (!limiter.Enabled)
        {
            return null;
        }
        var route = context.GetReverseProxyFeature().Route.Config;
        var named = route.Metadata?.GetValueOrDefault(PolicyMetadata);
        if (named == NoPolicy)
        {
            return null;
        }
        if (named is not null)
        {
            return named;
        }
        return context.User.Identity?.IsAuthenticated == true && limiter.HasPolicy(limiter.DefaultAuthenticatedPolicy)
            ? limiter.DefaultAuthenticatedPolicy
            : null;
    }

    private static bool ExemptsPeers(HttpContext context) =>
        context.GetReverseProxyFeature().Route.Config.Metadata?.GetValueOrDefault(ExemptPeersMetadata) == "true";

    private static string Seconds(long microseconds) => NumberText.Of(Math.Max(1, (long)Math.Ceiling(microseconds / 1_000_000.0)));
}
