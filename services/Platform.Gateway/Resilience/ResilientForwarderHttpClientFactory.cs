using Platform.Gateway.Upstreams;
using Yarp.ReverseProxy.Forwarder;

namespace Platform.Gateway.Resilience;

/// <summary>
/// YARP's pooled <see cref="SocketsHttpHandler"/> per upstream, tuned for an edge (fail fast on connect,
/// recycle connections so a Kubernetes Service's endpoints are re-resolved, no client-side Activity per request) and
/// wrapped in the upstream's resilience pipeline.
/// </summary>
public sealed class ResilientForwarderHttpClientFactory(UpstreamResilience resilience, ILogger<ForwarderHttpClientFactory> logger)
    : ForwarderHttpClientFactory(logger)
{
    protected override void ConfigureHandler(ForwarderHttpClientContext context, SocketsHttpHandler handler)
    {
        base.ConfigureHandler(context, handler);
        handler.ConnectTimeout = TimeSpan.FromSeconds(2);
        handler.PooledConnectionLifetime = TimeSpan.FromMinutes(2);
        handler.PooledConnectionIdleTimeout = TimeSpan.FromSeconds(60);
        handler.EnableMultipleHttp2Connections = true;
        // No DiagnosticsHandler (and its Activity per request): Upstreams/TraceContext.cs propagates the trace.
        handler.ActivityHeadersPropagator = null;
        handler.ResponseHeaderEncodingSelector = Utf8ResponseHeaders.Upstream;
    }

    protected override HttpMessageHandler WrapHandler(ForwarderHttpClientContext context, HttpMessageHandler handler)
    {
        ArgumentNullException.ThrowIfNull(context);
        return resilience.Wrap(context.ClusterId, base.WrapHandler(context, handler));
    }
}
