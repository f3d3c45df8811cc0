using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Net.Http;
using Microsoft.Extensions.Options;
using Polly;
using Polly.CircuitBreaker;
using Polly.Timeout;

namespace Platform.Gateway.Resilience;

/// <summary>
/// Resilience per upstream address (a destination of a YARP cluster; in Kubernetes, a pod behind a
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

    /// <summary>How long an address keeps its circuit without a request; far longer than any break or sampling window.</summary>
    public static readonly TimeSpan IdleExpiry = TimeSpan.FromMinutes(10);

    private readonly ConcurrentDictionary<(string Upstream, string Destination), Upstream> destinations = new();
    private readonly ResilienceOptions options;
    private readonly TimeSpan defaultTimeout;
    private readonly TimeProvider time;
    private readonly GatewayMetrics metrics;
    private readonly Deadlines deadlines;
    private readonly long sweepEvery;
    private long nextSweep;

    public UpstreamResilience(IOptions<ResilienceOptions> options, TimeProvider time, GatewayMetrics metrics)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(metrics);
        this.options = options.Value;
        this.time = time;
        this.metrics = metrics;
        defaultTimeout = TimeSpan.FromSeconds(this.options.TimeoutSeconds);
        deadlines = new Deadlines(time);
        sweepEvery = (long)(IdleExpiry.TotalSeconds / 10 * time.TimestampFrequency);
        nextSweep = time.GetTimestamp() + sweepEvery;
        metrics.Meter.CreateObservableGauge("gateway.circuit.state", ObserveCircuits, unit: "{state}",
            description: "Circuit of each upstream address: 0 closed, 1 open, 2 half-open, 3 isolated.");
    }

    /// <summary>Whether calls to this address of the upstream are currently refused by its circuit.</summary>
    public bool IsOpen(string upstream, Uri destination) =>
        destinations.TryGetValue((upstream, destination.Authority), out var entry) && entry.Circuit.CircuitState is CircuitState.Open or CircuitState.Isolated;

    public HttpMessageHandler Wrap(string upstream, HttpMessageHandler inner) => new ResilientHandler(this, upstream) { InnerHandler = inner };

    private Upstream Use(string upstream, Uri destination)
    {
        var now = time.GetTimestamp();
        var entry = destinations.GetOrAdd((upstream, destination.Authority), _ => Create(upstream));
        Volatile.Write(ref entry.LastUsed, now);
        SweepIfDue(now);
        return entry;
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
        metrics.DeclareCircuit(upstream);
        var circuit = new CircuitBreakerStateProvider();
        var breaker = new ResiliencePipelineBuilder<HttpResponseMessage> { TimeProvider = time, Name = upstream }
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions<HttpResponseMessage>
            {
                FailureRatio = options.BreakerFailureRatio,
                MinimumThroughput = options.BreakerMinimumThroughput,
                SamplingDuration = TimeSpan.FromSeconds(options.BreakerSamplingSeconds),
                BreakDuration = TimeSpan.FromSeconds(options.BreakerBreakSeconds),
                StateProvider = circuit,
                ShouldHandle = args => ValueTask.FromResult(args.Outcome.Exception is HttpRequestException or TimeoutRejectedException),
            })
            .Build();
        return new Upstream(breaker, circuit) { LastUsed = time.GetTimestamp() };
    }

    /// <summary>Before retry <paramref name="attempt"/> (0 for the first): exponential from the configured delay, ±50 % jitter.</summary>
    private TimeSpan RetryDelay(int attempt) =>
        TimeSpan.FromMilliseconds(options.RetryDelayMilliseconds * Math.Pow(2, attempt) * (0.5 + Random.Shared.NextDouble()));

    /// <summary>Refused or unreachable: the request never reached the upstream's application.</summary>
    private static bool IsConnectionFailure(Exception? exception) =>
        exception is HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError };

    /// <summary>Only requests without a body (YARP streams bodies once) and with a method that may be repeated.</summary>
    private static bool CanSendAgain(HttpRequestMessage request) =>
        request.Content is null
        && (request.Method == HttpMethod.Get || request.Method == HttpMethod.Head || request.Method == HttpMethod.Options || request.Method == HttpMethod.Delete);

    private sealed class Upstream(ResiliencePipeline<HttpResponseMessage> breaker, CircuitBreakerStateProvider circuit)
    {
        /// <summary>Timestamp (<see cref="TimeProvider.GetTimestamp"/>) of the last request to this address.</summary>
        public long LastUsed;

        public ResiliencePipeline<HttpResponseMessage> Breaker { get; } = breaker;

        public CircuitBreakerStateProvider Circuit { get; } = circuit;
    }

    /// <summary>
    /// Each attempt goes through the address's circuit breaker (Polly's) with a deadline to the response headers;
    /// a connection failure is tried again here. Retry and deadline are a loop and a pooled token source rather than
    /// Polly strategies: 1–2 % less gateway CPU per forwarded read (paired A/B, bench/ab-gateway.sh; the whole Polly
    /// pipeline was 8 %, bench/results/2026-12-06-gateway-side-by-side-ab.md; the breaker and the deadline's timer
    /// are most of the rest).
    /// </summary>
    private sealed class ResilientHandler(UpstreamResilience resilience, string upstream) : DelegatingHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var entry = resilience.Use(upstream, request.RequestUri!);
            var timeout = request.Options.TryGetValue(TimeoutOption, out var routeTimeout) ? routeTimeout : resilience.defaultTimeout;
            for (var attempt = 0; ; attempt++)
            {
                try
                {
                    return await entry.Breaker.ExecuteAsync(
                        static (state, _) => new ValueTask<HttpResponseMessage>(state.Handler.SendBeforeDeadlineAsync(state.Request, state.Timeout, state.Cancellation)),
                        (Handler: this, Request: request, Timeout: timeout, Cancellation: cancellationToken),
                        cancellationToken);
                }
                catch (HttpRequestException exception) when (attempt < resilience.options.RetryAttempts && IsConnectionFailure(exception) && CanSendAgain(request))
                {
                    await Task.Delay(resilience.RetryDelay(attempt), resilience.time, cancellationToken);
                }
            }
        }

        private async Task<HttpResponseMessage> SendBeforeDeadlineAsync(HttpRequestMessage request, TimeSpan timeout, CancellationToken cancellationToken)
        {
            var reusable = request.Content is null;
            var deadline = resilience.deadlines.Start(timeout, reusable);
            var link = cancellationToken.UnsafeRegister(static source => ((CancellationTokenSource)source!).Cancel(), deadline);
            try
            {
                return await base.SendAsync(request, deadline.Token);
            }
            catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutRejectedException($"'{upstream}' did not answer within {timeout.TotalSeconds:0.###} s.", timeout);
            }
            finally
            {
                link.Dispose();
                resilience.deadlines.Return(deadline, reusable);
            }
        }
    }
}
