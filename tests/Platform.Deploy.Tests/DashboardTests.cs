using System.Globalization;
using System.Text;
using Platform.Testing;

namespace Platform.Deploy.Tests;

/// <summary>The dashboards are valid Grafana JSON whose every query parses and reads only metrics that exist.</summary>
public sealed class DashboardTests
{
    public static TheoryData<string> Dashboards()
    {
        var data = new TheoryData<string>();
        foreach (var path in Repo.Dashboards)
        {
            data.Add(Path.GetFileName(path));
        }
        return data;
    }

    [Fact]
    public void There_is_a_platform_overview_and_an_operator_dashboard_and_the_chart_ships_them()
    {
        Assert.Equal(["platform-operator.json", "platform-overview.json"], Repo.Dashboards.Select(Path.GetFileName));
        Assert.Equal(Path.GetFullPath(Repo.Path("dashboards")), new DirectoryInfo(Path.Combine(Repo.PlatformChart, "dashboards")).ResolveLinkTarget(returnFinalTarget: true)?.FullName);
        Assert.Contains(".Files.Glob \"dashboards/*.json\"", File.ReadAllText(Path.Combine(Repo.PlatformChart, "templates", "dashboards.yaml")), StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Dashboards))]
    public void Every_dashboard_has_a_namespace_variable_a_stable_uid_and_queries(string file)
    {
        var dashboard = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Repo.Path("dashboards", file)))!;
        var variables = dashboard["templating"]!["list"]!.AsArray().Select(v => (string)v!["name"]!).ToList();

        Assert.Equal(Path.GetFileNameWithoutExtension(file), (string)dashboard["uid"]!);
        Assert.Contains("namespace", variables);
        Assert.Contains("datasource", variables);
        Assert.NotEmpty(DashboardQuery.In(Repo.Path("dashboards", file)));
    }

    [Fact]
    public void The_overview_selects_by_service_and_annotates_key_rotations()
    {
        var overview = DashboardQuery.In(Repo.Path("dashboards", "platform-overview.json"));

        Assert.Contains(overview, q => q.Where == "variable $service");
        Assert.Contains(overview, q => q.Where.StartsWith("annotation", StringComparison.Ordinal) && q.MetricNames().Contains("operator_signing_key_rotations_total"));
        var names = overview.SelectMany(q => q.MetricNames()).ToHashSet();
        foreach (var required in new[]
                 {
                     "http_server_request_duration_seconds_count", "http_server_request_duration_seconds_bucket",
                     "kube_horizontalpodautoscaler_status_current_replicas", "kube_horizontalpodautoscaler_status_desired_replicas",
                     "kube_horizontalpodautoscaler_spec_min_replicas", "kube_horizontalpodautoscaler_spec_max_replicas",
                     "kube_customresource_scalingpolicy_rps_per_pod", "auth_signing_key_age_seconds",
                     "auth_token_validation_failures_total", "gateway_rate_limited_total", "cache_requests_total",
                     "db_replica_lag_seconds", "outbox_pending", "rabbitmq_queue_messages_ready", "platform_redis_available",
                     "files_downloads_refused_total",
                 })
        {
            Assert.Contains(required, names);
        }
    }

    [Fact]
    public void Metric_names_are_read_from_promql_without_functions_labels_or_keywords()
    {
        var query = new DashboardQuery("d", "w",
            "histogram_quantile(0.99, sum by (job, le) (rate(a_bucket{job=~\"$service\", x=\"y\"}[$__rate_interval]))) / on (job) group_left(pod) b_total offset 5m > bool 1e3 or max(c)");

        Assert.Equal(new HashSet<string> { "a_bucket", "b_total", "c" }, query.MetricNames());
    }

    [Theory]
    [MemberData(nameof(Dashboards))]
    public async Task Every_query_of_the_dashboard_parses_with_promtool(string file)
    {
        var queries = DashboardQuery.In(Repo.Path("dashboards", file));
        var rules = new StringBuilder("groups:\n  - name: dashboard\n    rules:\n");
        for (var i = 0; i < queries.Count; i++)
        {
            rules.Append(CultureInfo.InvariantCulture, $"      - record: dashboard:query_{i}\n        expr: '{queries[i].Substituted.Replace("'", "''", StringComparison.Ordinal)}'\n");
        }
        var path = Path.Combine(Path.GetTempPath(), $"platform-dashboard-{Guid.NewGuid():N}.rules.yaml");
        await File.WriteAllTextAsync(path, rules.ToString());
        try
        {
            var check = await ShellCommand.RunAsync("promtool", ["check", "rules", "--lint=none", path], environment: null, TimeSpan.FromSeconds(30));

            Assert.True(check.ExitCode == 0, $"promtool check rules for {file}:\n{check.Output}\n{rules}");
            Assert.Contains($"SUCCESS: {queries.Count} rules found", check.Output, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
