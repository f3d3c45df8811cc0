using System.Globalization;
using Platform.Testing;

namespace Platform.Deploy.Tests;

/// <summary>
/// A dashboard that queries a metric nobody exports shows an empty panel forever, and an alert on it never fires.
/// Every name the dashboards and the alerting rules read must be exported by the running platform, or belong to an
/// exporter named here.
/// </summary>
[Collection(ScrapedPlatformCollection.Name)]
public sealed class DashboardMetricsExistTests(ScrapedPlatform platform)
{
    /// <summary>Metrics of other programs, by prefix: they are not this platform's to export.</summary>
    private static readonly (string Prefix, string Exporter)[] External =
    [
        ("kube_", "kube-state-metrics (the HPAs; kube_customresource_* from the chart's custom-resource configuration)"),
        ("rabbitmq_", "RabbitMQ's Prometheus plugin (the chart enables it, per-object metrics on)"),
        ("pg_", "the PostgreSQL exporter"),
        ("redis_", "the Redis exporter"),
    ];

    /// <summary>The operator's metrics, in its contract with the charts; the operator's own tests check it exports them.</summary>
    private static readonly string[] OperatorMetrics =
    [
        "operator_reconcile_total", "operator_reconcile_duration_seconds_bucket", "operator_signing_key_rotations_total", "operator_leader",
        "operator_signing_key_next_rotation_timestamp_seconds",
    ];

    [Fact]
    public async Task Every_metric_a_dashboard_or_an_alert_queries_is_exported_by_a_service_or_a_named_exporter()
    {
        var queries = Repo.Dashboards.SelectMany(DashboardQuery.In).Concat(AlertRulesTests.Queries()).ToList();
        var recorded = AlertRulesTests.RecordedNames();
        var wanted = queries
            .SelectMany(query => query.MetricNames().Where(name => !recorded.Contains(name)).Select(name => (Name: name, Query: query)))
            .Where(use => !External.Any(e => use.Name.StartsWith(e.Prefix, StringComparison.Ordinal)) && !OperatorMetrics.Contains(use.Name))
            .ToList();
        Assert.All(queries.SelectMany(q => q.MetricNames()).Where(n => n.StartsWith("operator_", StringComparison.Ordinal)), name => Assert.Contains(name, OperatorMetrics));

        List<(string Name, DashboardQuery Query)> Missing(HashSet<string> exported) => [.. wanted.Where(use => !exported.Contains(use.Name))];

        // Observable gauges and the outbox's counters appear within a dispatch or two of the traffic: wait for them,
        // then report whatever is still missing, by name and query.
        try
        {
            await Poll.UntilAsync(async () => Missing(await platform.ScrapeMetricNamesAsync()), missing => missing.Count == 0,
                TimeSpan.FromSeconds(20), "every dashboard metric to be exported");
        }
        catch (TimeoutException)
        {
        }
        var missing = Missing(await platform.ScrapeMetricNamesAsync());

        Assert.True(missing.Count == 0, "Dashboard queries read metrics nothing exports:\n" + string.Join('\n', missing.Select(m => $"{m.Name}  ({m.Query})")));
    }

    public static TheoryData<string> AllServices => ["gateway", "auth", "tasks", "files"];

    /// <summary>
    /// The check above is satisfied by any one service; the Redis panel and RedisUnavailable read each pod's own view,
    /// so every service must export it (each registers Redis in its Program.cs, and with it the gauge).
    /// </summary>
    [Theory]
    [MemberData(nameof(AllServices))]
    public async Task Every_service_exports_whether_it_can_use_redis(string service)
    {
        var metrics = await platform.Client.GetStringAsync(new Uri(platform.Services[service], "/metrics"));

        Assert.Contains("\nplatform_redis_available 1\n", metrics, StringComparison.Ordinal);
    }

    public static TheoryData<string> DataServices => ["auth", "tasks", "files"];

    /// <summary>
    /// The chart's migration Job gets only the database's credentials (it may run before the release's Redis and
    /// RabbitMQ Secrets exist): `migrate` must succeed with unreachable, password-less Redis and RabbitMQ settings.
    /// </summary>
    [Theory]
    [MemberData(nameof(DataServices))]
    public async Task Migrate_needs_only_the_postgresql_settings_as_the_charts_migration_job_gives_them(string service)
    {
        var project = "Platform." + char.ToUpperInvariant(service[0]) + service[1..];
        var dll = RepoPaths.Assembly("services", project);
        var environment = new Dictionary<string, string>
        {
            ["ConnectionStrings__Postgres"] = platform.Tier.PostgresPrimary,
            ["ConnectionStrings__PostgresReplica"] = platform.Tier.PostgresReplica,
            ["Postgres__ServiceRole"] = service,
            ["Postgres__ServiceRolePassword"] = platform.Tier.PostgresRolePassword(service),
            ["ConnectionStrings__Redis"] = "127.0.0.1:" + DataTier.WithOffset(26199).ToString(CultureInfo.InvariantCulture),
            ["ConnectionStrings__RabbitMq"] = $"amqp://127.0.0.1:{DataTier.WithOffset(26198).ToString(CultureInfo.InvariantCulture)}/",
            ["DOTNET_NOLOGO"] = "1",
        };

        var result = await ShellCommand.RunAsync("bash", ["-c", "cd \"$(dirname \"$0\")\" && exec dotnet \"$0\" migrate", dll], environment, TimeSpan.FromMinutes(2));

        Assert.True(result.ExitCode == 0, $"{service} migrate exited {result.ExitCode}:\n{result.Output}");
    }
}
