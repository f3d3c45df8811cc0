using System.ComponentModel.DataAnnotations;

namespace Platform.Gateway.Resilience;

/// <summary>The <c>Resilience</c> section: how the gateway protects itself and clients from a failing upstream.</summary>
public sealed class ResilienceOptions
{
    public const string Section = "Resilience";

    /// <summary>
    /// How long an upstream may take to start answering (response headers), unless the route's
    /// <c>TimeoutSeconds</c> metadata says otherwise. Streaming a body afterwards is not limited by it.
    /// </summary>
    [Range(0.01, 86_400)]
    public double TimeoutSeconds { get; set; } = 30;

    /// <summary>Extra attempts after a connection failure, for requests without a body and an idempotent method only.</summary>
    [Range(0, 5)]
    public int RetryAttempts { get; set; } = 2;

    [Range(0, 10_000)]
    public int RetryDelayMilliseconds { get; set; } = 50;

    /// <summary>Share of failed calls (connection failures and timeouts) within the sampling window that opens an upstream's circuit.</summary>
    [Range(0.01, 1)]
    public double BreakerFailureRatio { get; set; } = 0.5;

    /// <summary>Calls needed within the window before the ratio counts, so a single failure never opens the circuit.</summary>
    [Range(2, 100_000)]
    public int BreakerMinimumThroughput { get; set; } = 10;

    [Range(0.5, 600)]
    public double BreakerSamplingSeconds { get; set; } = 10;

    /// <summary>How long an open circuit answers 503 at once before one trial call may pass.</summary>
    [Range(0.5, 600)]
    public double BreakerBreakSeconds { get; set; } = 5;
}
