using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
using OpenTelemetry;
using OpenTelemetry.Metrics;

namespace Platform.Gateway;

/// <summary>
/// The gateway's own metrics: <c>gateway_upstream_request_duration_seconds{route,upstream,status}</c>,
/// <c>gateway_rate_limited_total{policy}</c>, <c>gateway_rate_limit_decisions_total{store}</c>,
/// <c>gateway_rate_limiter_fallback</c> (1 while Redis is unreachable and limits hold per instance) and
/// <c>gateway_circuit_state{upstream,destination}</c> (0 closed, 1 open, 2 half-open, 3 isolated) and
/// <c>gateway_circuit_refusals_total{upstream}</c> (requests answered 503 without forwarding, the circuit being open).
/// </summary>
public sealed class GatewayMetrics
{
    public const string MeterName = "Platform.Gateway";

    /// <summary>The token cache counter's instrument, so dashboards tell the edge's cache from the services'.</summary>
    public const string TokenCacheInstrument = "gateway.token_cache.requests";

    private static readonly double[] DurationBuckets =
        [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

    private static readonly KeyValuePair<string, object?> RedisStore = new("store", "redis");
    private static readonly KeyValuePair<string, object?> MemoryStore = new("store", "memory");

    private readonly Histogram<double> upstreamDuration;
    private readonly Counter<long> rateLimited;
    private readonly Counter<long> rateLimitDecisions;
    // Observable, not a counter declared with Add(0): circuits are made as the first requests and probes go out, which
    // can be before the exporter listens, and a measurement made then is lost; these counts are read at each scrape.
    private readonly ConcurrentDictionary<string, StrongBox<long>> circuitRefusals = new(StringComparer.Ordinal);
    private volatile bool rateLimiterFallback;

    public GatewayMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        var meter = meterFactory.Create(MeterName);
        upstreamDuration = meter.CreateHistogram("gateway.upstream.request.duration", unit: "s",
            description: "Time from forwarding a request to the end of its response body, by route, upstream and status.",
            tags: null, advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = DurationBuckets });
        rateLimited = meter.CreateCounter<long>("gateway.rate_limited", unit: "{request}",
            description: "Requests refused with 429 by a rate-limit policy.");
        rateLimitDecisions = meter.CreateCounter<long>("gateway.rate_limit.decisions", unit: "{decision}",
            description: "Rate-limit decisions, by where the budget was kept: redis (shared by all instances) or memory (this instance, Redis unreachable).");
        meter.CreateObservableCounter("gateway.circuit.refusals",
            () => circuitRefusals.Select(pair => new Measurement<long>(Volatile.Read(ref pair.Value.Value), new KeyValuePair<string, object?>("upstream", pair.Key))),
            unit: "{request}", description: "Requests answered 503 without being forwarded, because the upstream's circuit was open.");
        meter.CreateObservableGauge("gateway.rate_limiter.fallback", () => rateLimiterFallback ? 1 : 0, unit: "{state}",
            description: "1 while Redis is unreachable and rate limits hold per gateway instance only.");
        Meter = meter;
    }

    /// <summary>For parts that register observable instruments over their own state (the circuit breakers).</summary>
    public Meter Meter { get; }

    public bool RateLimiterFallback => rateLimiterFallback;

    /// <summary>
    /// The HTTP client's per-request histograms duplicate <c>gateway_upstream_request_duration_seconds</c> for
    /// every forwarded request; recording them cost CPU on the hot path for nothing a dashboard reads.
    /// </summary>
    public static void DropDuplicateClientMetrics(IServiceCollection services) =>
        services.ConfigureOpenTelemetryMeterProvider(metrics => metrics
            .AddView("http.client.request.duration", MetricStreamConfiguration.Drop)
            .AddView("http.client.request.time_in_queue", MetricStreamConfiguration.Drop));

    public void UpstreamRequest(string route, string upstream, int status, TimeSpan duration) =>
        upstreamDuration.Record(duration.TotalSeconds,
            new KeyValuePair<string, object?>("route", route),
            new KeyValuePair<string, object?>("upstream", upstream),
            new KeyValuePair<string, object?>("status", StatusLabel(status)));

    /// <summary>Starts an upstream's count of circuit refusals at 0, so its rate is known from the first refusal on.</summary>
    public void DeclareCircuit(string upstream) => RefusalsOf(upstream);

    public void CircuitRefused(string upstream) => Interlocked.Increment(ref RefusalsOf(upstream).Value);

    private StrongBox<long> RefusalsOf(string upstream) => circuitRefusals.GetOrAdd(upstream, static _ => new StrongBox<long>());

    /// <summary>Starts a policy's refusal count at 0, so dashboards see the series before the first refusal.</summary>
    public void DeclarePolicy(string policy) => rateLimited.Add(0, new KeyValuePair<string, object?>("policy", policy));

    public void RateLimited(string policy) => rateLimited.Add(1, new KeyValuePair<string, object?>("policy", policy));

    public void RateLimitDecided(bool inRedis)
    {
        rateLimiterFallback = !inRedis;
        rateLimitDecisions.Add(1, inRedis ? RedisStore : MemoryStore);
    }

    private static string StatusLabel(int status) => status is >= 0 and < 600 ? NumberText.Of(status) : "other";
}
