using System.Diagnostics;
using Platform.Gateway.Resilience;
using Yarp.ReverseProxy.Model;

namespace Platform.Gateway.Upstreams;

public static class UpstreamMetrics
{
    /// <summary>nginx's status for a client that closed the connection before it got an answer.</summary>
    public const int ClientClosedRequest = 499;

    /// <summary>
    /// Times every forwarded request to the end of its response body and records it with the status the client
    /// got — after error mapping, so an open circuit shows as the 503 the client saw. A client that hung up before
    /// the answer began is recorded as 499, not as the 400 or 502 YARP leaves on the response it could not send,
    /// so the gateway's 5xx ratio counts only the platform's failures. A failed forward is answered
    /// (<see cref="UpstreamErrors.AnswerFailedForwardAsync"/>) inside this middleware: one async step per forward
    /// instead of two.
    /// </summary>
    public static IReverseProxyApplicationBuilder UseUpstreamMetrics(this IReverseProxyApplicationBuilder pipeline)
    {
        pipeline.Use(async (context, next) =>
        {
            var started = Stopwatch.GetTimestamp();
            var metrics = context.RequestServices.GetRequiredService<GatewayMetrics>();
            try
            {
                await next(context);
                await UpstreamErrors.AnswerFailedForwardAsync(context, metrics);
            }
            finally
            {
                var proxy = context.GetReverseProxyFeature();
                var status = context.RequestAborted.IsCancellationRequested && !context.Response.HasStarted ? ClientClosedRequest : context.Response.StatusCode;
                metrics.UpstreamRequest(
                    proxy.Route.Config.RouteId, proxy.Cluster.Config.ClusterId, status, Stopwatch.GetElapsedTime(started));
            }
        });
        return pipeline;
    }
}
