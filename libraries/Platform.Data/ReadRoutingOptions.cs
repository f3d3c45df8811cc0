using System.ComponentModel.DataAnnotations;

namespace Platform.Data;

/// <summary>The <c>ReadRouting</c> section: when reads may go to the replica (docs/architecture.md §7.3).</summary>
public sealed class ReadRoutingOptions
{
    public const string Section = "ReadRouting";

    /// <summary>After a subject (a user) writes, its reads go to the primary for this long (read-your-writes).</summary>
    [Range(0.1, 600)]
    public double ReadYourWritesSeconds { get; set; } = 5;

    /// <summary>A replica whose replay lags the primary by more than this serves no reads.</summary>
    [Range(0.1, 600)]
    public double MaxReplicaLagSeconds { get; set; } = 2;

    /// <summary>How often the replica's lag is measured, in the background (never per request).</summary>
    [Range(0.05, 60)]
    public double LagSampleSeconds { get; set; } = 1;
}
