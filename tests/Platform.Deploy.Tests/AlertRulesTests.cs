using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Platform.Testing;

namespace Platform.Deploy.Tests;

/// <summary>
/// The platform's alerts (charts/platform/alerts/platform-alerts.yaml): each fires and resolves as its promtool unit
/// test says, has a runbook, and reads only metrics that exist — exported by the running platform (the dashboard
/// test's check, in <see cref="DashboardMetricsExistTests"/>), by the operator, or by kube-state-metrics with the
/// chart's own custom-resource configuration.
/// </summary>
public sealed partial class AlertRulesTests
{
    private static string RulesFile => Repo.Path("charts", "platform", "alerts", "platform-alerts.yaml");

    private static JsonNode Rules => YamlNodes.LoadFile(RulesFile)!;

    public static IEnumerable<JsonNode> AllRules() => Rules["groups"]!.AsArray().SelectMany(group => group!["rules"]!.AsArray()).Select(rule => rule!);

    /// <summary>Every rule's expression as a query whose metric names can be read.</summary>
    public static IEnumerable<DashboardQuery> Queries() =>
        AllRules().Select(rule => new DashboardQuery("platform-alerts.yaml", (string?)rule["alert"] ?? (string)rule["record"]!, (string)rule["expr"]!));

    /// <summary>Names the rules read that are recording rules of the same file, not metrics.</summary>
    public static IReadOnlySet<string> RecordedNames() => AllRules().Select(rule => (string?)rule["record"]).OfType<string>().ToHashSet();

    [Fact]
    public async Task Every_alert_fires_and_resolves_as_its_promtool_unit_test_says()
    {
        var result = await ShellCommand.RunAsync("promtool", ["test", "rules", Repo.Path("charts", "platform", "alerts", "platform-alerts-test.yaml")],
            environment: null, TimeSpan.FromMinutes(2));

        Assert.True(result.ExitCode == 0, result.Output);
        Assert.Contains("SUCCESS", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_alert_has_a_unit_test_that_makes_it_fire()
    {
        var tests = YamlNodes.LoadFile(Repo.Path("charts", "platform", "alerts", "platform-alerts-test.yaml"))!;
        var fired = tests["tests"]!.AsArray()
            .SelectMany(test => test!["alert_rule_test"]!.AsArray())
            .Where(check => check!["exp_alerts"]!.AsArray().Count > 0)
            .Select(check => (string)check!["alertname"]!)
            .ToHashSet();

        Assert.Equal(AllRules().Select(rule => (string?)rule["alert"]).OfType<string>().Order(), fired.Order());
    }

    [Fact]
    public void Every_alert_names_its_runbook_section_and_the_section_exists()
    {
        var runbooks = File.ReadAllText(Repo.Path("docs", "runbooks.md"));
        var sections = Heading().Matches(runbooks).Select(m => "docs/runbooks.md#" + m.Groups["name"].Value.ToLowerInvariant()).ToHashSet();

        Assert.All(AllRules().Where(rule => rule["alert"] is not null), rule =>
        {
            var runbook = (string?)rule["annotations"]?["runbook"];
            Assert.True(runbook is not null && sections.Contains(runbook), $"{rule["alert"]}: runbook '{runbook}' is not a section of docs/runbooks.md");
            Assert.NotNull(rule["labels"]?["severity"]);
        });
    }

    [Fact]
    public void Custom_resource_metrics_the_alerts_and_dashboards_read_are_ones_the_charts_kube_state_metrics_configuration_exports()
    {
        var configuration = File.ReadAllText(Repo.Path("charts", "platform", "templates", "kube-state-metrics-config.yaml"));
        var exported = ConfiguredMetric().Matches(configuration).Select(m => "kube_customresource_" + m.Groups["name"].Value).ToHashSet();
        var read = Queries().Concat(Repo.Dashboards.SelectMany(DashboardQuery.In))
            .SelectMany(query => query.MetricNames())
            .Where(name => name.StartsWith("kube_customresource_", StringComparison.Ordinal))
            .ToHashSet();

        Assert.NotEmpty(read);
        Assert.Empty(read.Except(exported));
    }

    [Fact]
    public async Task The_chart_ships_the_rules_file_unchanged_as_a_prometheus_rule_only_where_the_api_is_served()
    {
        string[] pushed = ["--set", "global.imageRegistry=registry.example.com/platform"];
        var without = await Helm.TemplateAsync(Repo.PlatformChart, pushed);
        var with = await Helm.TemplateAsync(Repo.PlatformChart, [.. pushed, "--api-versions", "monitoring.coreos.com/v1"]);
        var disabled = await Helm.TemplateAsync(Repo.PlatformChart, [.. pushed, "--api-versions", "monitoring.coreos.com/v1", "--set", "metrics.prometheusRule.enabled=false"]);

        Assert.Empty(without.OfKind("PrometheusRule"));
        Assert.Empty(disabled.OfKind("PrometheusRule"));
        var rule = Assert.Single(with.OfKind("PrometheusRule"));
        Assert.True(JsonNode.DeepEquals(Rules["groups"], rule["spec"]!["groups"]), "the rendered rules differ from alerts/platform-alerts.yaml");
    }

    [GeneratedRegex(@"^## (?<name>[A-Za-z]+)\s*$", RegexOptions.Multiline)]
    private static partial Regex Heading();

    [GeneratedRegex(@"- name: (?<name>[a-z_]+)")]
    private static partial Regex ConfiguredMetric();
}
