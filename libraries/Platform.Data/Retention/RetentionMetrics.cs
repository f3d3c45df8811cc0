using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace Platform.Data.Retention;

/// <summary>
/// <c>retention_rows_removed_total{table}</c> and <c>retention_failures_total{table}</c> on the "Platform.Retention"
/// meter. Observable counters over totals kept here, so every table of the service is exported at 0 from the first
/// scrape (a counter's Add before the exporter listens would be lost).
/// </summary>
public sealed class RetentionMetrics
{
    public const string MeterName = "Platform.Retention";

    private readonly ConcurrentDictionary<string, long> removed = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> failures = new(StringComparer.Ordinal);

    public RetentionMetrics(IMeterFactory meterFactory, IEnumerable<RetentionRule> rules)
    {
        foreach (var rule in rules)
        {
            removed[rule.Table] = 0;
            failures[rule.Table] = 0;
        }
        var meter = meterFactory.Create(MeterName);
        meter.CreateObservableCounter("retention.rows_removed", () => Observe(removed), "{row}", "Rows deleted by the retention job because they were older than their table's horizon.");
        meter.CreateObservableCounter("retention.failures", () => Observe(failures), "{pass}", "Retention passes over a table that failed (the database away, a lock timeout); retried at the next interval.");
    }

    public void Removed(string table, long rows) => removed.AddOrUpdate(table, rows, (_, total) => total + rows);

    public void Failed(string table) => failures.AddOrUpdate(table, 1, (_, total) => total + 1);

    private static IEnumerable<Measurement<long>> Observe(ConcurrentDictionary<string, long> totals) =>
        totals.Select(total => new Measurement<long>(total.Value, new KeyValuePair<string, object?>("table", total.Key)));
}
