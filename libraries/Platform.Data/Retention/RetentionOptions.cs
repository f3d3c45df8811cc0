using System.ComponentModel.DataAnnotations;

namespace Platform.Data.Retention;

/// <summary>Section "Retention": how often and how gently old rows are removed, and each table's horizon.</summary>
public sealed class RetentionOptions
{
    public const string Section = "Retention";

    /// <summary>Time between passes. Rows become removable by the horizon, not by the minute, so an hour is plenty.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan Interval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Rows per DELETE; each batch is its own short transaction, so no lock is held for long.</summary>
    [Range(1, 100_000)]
    public int BatchSize { get; set; } = 1000;

    /// <summary>Rest between batches, so a large backlog drains without taking the primary's I/O from requests.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:01:00")]
    public TimeSpan PauseBetweenBatches { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Per table name, how long its rows are kept; a table not named keeps its rule's default.</summary>
    public Dictionary<string, TimeSpan> Horizons { get; } = new(StringComparer.Ordinal);
}
