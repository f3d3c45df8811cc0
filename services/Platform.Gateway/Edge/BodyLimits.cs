using Microsoft.AspNetCore.Http.Features;
using Platform.Hosting.Problems;
using Yarp.ReverseProxy.Model;

namespace Platform.Gateway.Edge;

public static class BodyLimits
{
    /// <summary>
    /// A request that announces a body over its route's limit is refused before anything is sent upstream; a
    /// chunked one is cut off by Kestrel when it passes the limit, and answered 413 by the error mapping.
    /// </summary>
    public static IReverseProxyApplicationBuilder UseBodyLimits(this IReverseProxyApplicationBuilder pipeline)
    {
        // Not an async lambda: a request within its limit (nearly all) goes on without a state machine of its own.
        pipeline.Use((context, next) =>
        {
            var limit = LimitOf(context);
            if (context.Request.ContentLength is not { } length || limit is null || length <= limit)
            {
                return next(context);
            }
            return WriteTooLargeAsync(context, limit.Value).AsTask();
        });
        return pipeline;
    }

    /// <summary>The 413 for a body over <paramref name="limit"/>, whichever check found it.</summary>
    public static ValueTask WriteTooLargeAsync(HttpContext context, long limit) =>
        context.WriteProblemAsync(StatusCodes.Status413PayloadTooLarge, ProblemTypes.PayloadTooLarge,
            "The request body is too large.", $"This route accepts bodies up to {limit} bytes.");

    /// <summary>The route's own limit (YARP applies it to the body stream only when forwarding; -1: none), else Kestrel's.</summary>
    public static long? LimitOf(HttpContext context) => context.GetReverseProxyFeature().Route.Config.MaxRequestBodySize switch
    {
        null => context.Features.Get<IHttpMaxRequestBodySizeFeature>()?.MaxRequestBodySize,
        -1 => null,
        var routeLimit => routeLimit,
    };
}
