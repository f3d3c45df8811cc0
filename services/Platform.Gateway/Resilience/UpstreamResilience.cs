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
/// One resilience pipeline per upstream address (a destination of a YARP cluster; in Kubernetes, a pod behind a
/// headless Service or a Service's address): retry on connection failure for requests that can be sent again, a circuit
/// breaker that answers fast once that address keeps failing, and a timeout to the response headers that routes
/// can override. Per address, so one dead replica of several never opens the circuit of the healthy ones (YARP's
/// health checks steer traffic away from it). It sits under YARP as a message handler, so it sees every attempt.
/// Pods come and go with their addresses, so an address no request went to for <see cref="IdleExpiry"/> is
/// forgotten, circuit and gauge series with it.
/// </summary>
public sealed class UpstreamResilience
{
    public static readonly HttpRequestOptionsKey<TimeSpan> TimeoutOption = new("platform.upstream-timeout");

    private static readonly ResiliencePropertyKey<HttpRequestMessage> RequestKey = new("platform.request");

    /// <summary>How long an address keeps its circuit without a request; far longer than any break or sampling window.</summary>
    public static readonly TimeSpan IdleExpiry = TimeSpan.FromMinutes(10);

    private readonly ConcurrentDictionary<(string Upstream, string Destination), Upstream> destinations = new();
    private readonly ResilienceOptions options;
    private readonly TimeProvider time;
    private readonly long sweepEvery;
    private long nextSweep;

    public UpstreamResilience(IOptions<ResilienceOptions> options, TimeProvider time, GatewayMetrics metrics)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(metrics);
        this.options = options.Value;
        this.time = time;
        sweepEvery = (long)(IdleExpiry.TotalSeconds / 10 * time.TimestampFrequency);
        nextSweep = time.GetTimestamp() + sweepEvery;
        metrics.Meter.CreateObservableGauge("gateway.circuit.state", ObserveCircuits, unit: "{state}",
            description: "Circuit of each upstream address: 0 closed, 1 open, 2 half-open, 3 isolated.");
    }

    /// <summary>Whether calls to this address of the upstream are currently refused by its circuit.</summary>
    public bool IsOpen(string upstream, Uri destination) =>
        destinations.TryGetValue((upstream, destination.Authority), out var entry) && entry.Circuit.CircuitState is CircuitState.Open or CircuitState.Isolated;

    public HttpMessageHandler Wrap(string upstream, HttpMessageHandler inner) => new ResilientHandler(this, upstream) { InnerHandler = inner };

    private ResiliencePipeline<HttpResponseMessage> PipelineFor(string upstream, Uri destination)
    {
        var now = time.GetTimestamp();
        var entry = destinations.GetOrAdd((upstream, destination.Authority), _ => Create(upstream));
        Volatile.Write(ref entry.LastUsed, now);
        SweepIfDue(now);
        return entry.Pipeline;
    }

    private IEnumerable<Measurement<int>> ObserveCircuits()
    {
        SweepIfDue(time.GetTimestamp());
        return destinations.Select(pair => new Measurement<int>((int)pair.Value.Circuit.CircuitState,
            new KeyValuePair<string, object?>("upstream", pair.Key.Upstream), new KeyValuePair<string, object?>("destination", pair.Key.Destination)));
    }

    /// <summary>At most once per tenth of <see cref="IdleExpiry"/>: forgets the addresses idle for longer than it.</summary>
    private void SweepIfDue(long now)
    {
        var due = Interlocked.Read(ref nextSweep);
        if (now < due || Interlocked.CompareExchange(ref nextSweep, now + sweepEvery, due) != due)
        {
            return;
        }
        var idleSince = now - (long)(IdleExpiry.TotalSeconds * time.TimestampFrequency);
        foreach (var (key, entry) in destinations)
        {
            if (Volatile.Read(ref entry.LastUsed) < idleSince)
            {
                destinations.TryRemove(new KeyValuePair<(string, string), Upstream>(key, entry));
            }
        }
    }

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
        return new Upstream(pipeline, circuit) { LastUsed = time.GetTimestamp() };
    }

    /// <summary>Refused or unreachable: the request never reached the upstream's application.</summary>
    private static bool IsConnectionFailure(Exception? exception) =>
        exception is HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError };

    /// <summary>Only requests without a body (YARP streams bodies once) and with a method that may be repeated.</summary>
    private static bool CanSendAgain(HttpRequestMessage request) =>
        request.Content is null
        && (request.Method == HttpMethod.Get || request.Method == HttpMethod.Head || request.Method == HttpMethod.Options || request.Method == HttpMethod.Delete);

    private sealed class Upstream(ResiliencePipeline<HttpResponseMessage> pipeline, CircuitBreakerStateProvider circuit)
    {
        /// <summary>Timestamp (<see cref="TimeProvider.GetTimestamp"/>) of the last request to this address.</summary>
        public long LastUsed;

        public ResiliencePipeline<HttpResponseMessage> Pipeline { get; } = pipeline;

        public CircuitBreakerStateProvider Circuit { get; } = circuit;
    }

    private sealed class ResilientHandler(UpstreamResilience resilience, string upstream) : DelegatingHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var pipeline = resilience.PipelineFor(upstream, request.RequestUri!);
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
