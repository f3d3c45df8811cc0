using System.Diagnostics;
using Yarp.ReverseProxy.Transforms;
using Yarp.ReverseProxy.Transforms.Builder;

namespace Platform.Gateway.Upstreams;

/// <summary>
/// Carries the gateway's trace context to the upstream (W3C <c>traceparent</c> and <c>tracestate</c>, baggage) in
/// place of the headers the client sent, so the upstream's logs carry the same trace id under the gateway's span.
/// The HTTP client's own DiagnosticsHandler would do it by starting an Activity for every forwarded request (the
/// Activity, its tags, the redacted URL: ~1 KB a request that nothing exports), so the gateway's upstream handlers
/// are built without it (<see cref="Resilience.ResilientForwarderHttpClientFactory"/>).
/// </summary>
public static class TraceContext
{
    public static void Propagate(TransformBuilderContext transforms)
    {
        ArgumentNullException.ThrowIfNull(transforms);
        var propagator = DistributedContextPropagator.Current;
        var fields = propagator.Fields.ToArray();
        transforms.AddRequestTransform(transform =>
        {
            var request = transform.ProxyRequest;
            foreach (var field in fields)
            {
                request.Headers.Remove(field);
            }
            propagator.Inject(Activity.Current, request, static (carrier, name, value) =>
                ((HttpRequestMessage)carrier!).Headers.TryAddWithoutValidation(name, value));
            return ValueTask.CompletedTask;
        });
    }
}
