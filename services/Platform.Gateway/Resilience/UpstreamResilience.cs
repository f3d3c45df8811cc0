using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Net.Http;
using Microsoft.Extensions.Options;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;
using Polly.Timeout;

namespace Platform.Gateway.Resilience;

/// <summary>
/// One resilience pipeline per upstream (a YARP cluster): retry on connection failure for requests that can
/// be sent again, a circuit breaker that answers fast once the upstream keeps failing, and a timeout to the
/// response headers that routes can override. It sits under YARP as a message handler, so it sees every
/// attempt and nothing above it changes.
/// </summary>
public sealed class UpstreamResilience
{
    public static readonly HttpRequestOptionsKey<TimeSpan> TimeoutOption = new("platform.upstream-timeout");

    private static readonly ResiliencePropertyKey<HttpRequestMessage> RequestKey = new("platform.request");

    private readonly ConcurrentDictionary<string, Upstream> upstreams = new(StringComparer.Ordinal);
    private readonly ResilienceOptions options;
    private readonly TimeProvider time;

    public UpstreamResilience(IOptions<ResilienceOptions> options, TimeProvider time, GatewayMetrics metrics)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(metrics);
        this.options = options.Value;
        this.time = time;
        metrics.Meter.CreateObservableGauge("gateway.circuit.state", ObserveCircuits, unit: "{state}",
            description: "Circuit of each upstream: 0 closed, 1 open, 2 half-open, 3 isolated.");
    }

    public CircuitState CircuitOf(string upstream) =>
        upstreams.TryGetValue(upstream, out var entry) ? entry.Circuit.CircuitState : CircuitState.Closed;

    public HttpMessageHandler Wrap(string upstream, HttpMessageHandler inner) =>
        new ResilientHandler(upstreams.GetOrAdd(upstream, Create).Pipeline) { InnerHandler = inner };

    private IEnumerable<Measurement<int>> ObserveCircuits() =>
        upstreams.Select(pair => new Measurement<int>((int)pair.Value.Circuit.CircuitState, new KeyValuePair<string, object?>("upstream", pair.Key)));

    private Upstream Create(string upstream)
    {
        var circuit = new CircuitBreakerStateProvider();
        var pipeline = new ResiliencePipelineBuilder<HttpResponseMessage> { TimeProvider = time, Name = upstream }
            .AddRetry(new RetryStrategyOptions<HttpResponseMessage>
            {
                MaxRetryAttempts = Math.Max(options.RetryAttempts, 1),
                Delay = TimeSpan.FromMilliseconds(options.RetryDelayMilliseconds),
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                ShouldHandle = args => ValueTask.FromResult(options.RetryAttempts > 0
                    && IsConnectionFailure(args.Outcome.Exception)
                    && args.Context.Properties.TryGetValue(RequestKey, out var request)
                    && CanSendAgain(request)),
            })
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions<HttpResponseMessage>
            {
                FailureRatio = options.BreakerFailureRatio,
                MinimumThroughput = options.BreakerMinimumThroughput,
                SamplingDuration = TimeSpan.FromSeconds(options.BreakerSamplingSeconds),
                BreakDuration = TimeSpan.FromSeconds(options.BreakerBreakSeconds),
                StateProvider = circuit,
                ShouldHandle = args => ValueTask.FromResult(args.Outcome.Exception is HttpRequestException or TimeoutRejectedException),
            })
            .AddTimeout(new TimeoutStrategyOptions
            {
                TimeoutGenerator = args => ValueTask.FromResult(
                    args.Context.Properties.TryGetValue(RequestKey, out var request) && request.Options.TryGetValue(TimeoutOption, out var timeout)
                        ? timeout
                        : TimeSpan.FromSeconds(options.TimeoutSeconds)),
            })
            .Build();
        return new Upstream(pipeline, circuit);
    }

    /// <summary>Refused or unreachable: the request never reached the upstream's application.</summary>
    private static bool IsConnectionFailure(Exception? exception) =>
        exception is HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError };

    /// <summary>Only requests without a body (YARP streams bodies once) and with a method that may be repeated.</summary>
    private static bool CanSendAgain(HttpRequestMessage request) =>
        request.Content is null
        && (request.Method == HttpMethod.Get || request.Method == HttpMethod.Head || request.Method == HttpMethod.Options || request.Method == HttpMethod.Delete);

    private sealed record Upstream(ResiliencePipeline<HttpResponseMessage> Pipeline, CircuitBreakerStateProvider Circuit);

    private sealed class ResilientHandler(ResiliencePipeline<HttpResponseMessage> pipeline) : DelegatingHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var context = ResilienceContextPool.Shared.Get(cancellationToken);
            context.Properties.Set(RequestKey, request);
            try
            {
                return await pipeline.ExecuteAsync(
                    static (ctx, state) => new ValueTask<HttpResponseMessage>(state.Handler.SendToUpstreamAsync(state.Request, ctx.CancellationToken)),
                    context,
                    (Handler: this, Request: request));
            }
            finally
            {
                ResilienceContextPool.Shared.Return(context);
            }
        }

        private Task<HttpResponseMessage> SendToUpstreamAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            base.SendAsync(request, cancellationToken);
    }
}
