using System.Diagnostics;
using Yarp.ReverseProxy.Model;

namespace Platform.Gateway.Upstreams;

public static class UpstreamMetrics
{
    /// <summary>
    /// Times every forwarded request to the end of its response body and records it with the status the client
    /// got — after error mapping, so an open circuit shows as the 503 the client saw.
    /// </summary>
    public static IReverseProxyApplicationBuilder UseUpstreamMetrics(this IReverseProxyApplicationBuilder pipeline)
    {
        pipeline.Use(async (context, next) =>
        {
            var started = Stopwatch.GetTimestamp();
            try
            {
                await next(context);
            }
            finally
            {
                var proxy = context.GetReverseProxyFeature();
                context.RequestServices.GetRequiredService<GatewayMetrics>().UpstreamRequest(
                    proxy.Route.Config.RouteId, proxy.Cluster.Config.ClusterId, context.Response.StatusCode, Stopwatch.GetElapsedTime(started));
            }
        });
        return pipeline;
    }
}
