using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Platform.Deploy.Tests;

/// <summary>Every PromQL expression of a Grafana dashboard: panel targets, annotations, and the selectors of template variables.</summary>
public sealed partial record DashboardQuery(string Dashboard, string Where, string Expression)
{
    public static IReadOnlyList<DashboardQuery> In(string path)
    {
        var name = Path.GetFileName(path);
        var dashboard = JsonNode.Parse(File.ReadAllText(path))!;
        var queries = new List<DashboardQuery>();
        foreach (var panel in Panels(dashboard["panels"]?.AsArray()))
        {
            foreach (var target in panel["targets"]?.AsArray() ?? [])
            {
                queries.Add(new(name, $"panel \"{panel["title"]}\" {target!["refId"]}", (string)target["expr"]!));
            }
        }
        foreach (var annotation in dashboard["annotations"]?["list"]?.AsArray() ?? [])
        {
            if (annotation!["expr"] is { } expression)
            {
                queries.Add(new(name, $"annotation \"{annotation["name"]}\"", (string)expression!));
            }
        }
        foreach (var variable in dashboard["templating"]?["list"]?.AsArray() ?? [])
        {
            if ((string?)variable!["type"] == "query")
            {
                var query = (string)variable["query"]!["query"]!;
                var selector = LabelValues().Match(query);
                queries.Add(new(name, $"variable ${variable["name"]}", selector.Success ? selector.Groups["selector"].Value : query));
            }
        }
        return queries;
    }

    /// <summary>The expression as Prometheus sees it once Grafana has filled in its variables.</summary>
    public string Substituted => Variable().Replace(BuiltInInterval().Replace(Expression, "5m"), "x");

    /// <summary>
    /// The metric names the expression reads: identifiers left after removing strings, label matchers, ranges,
    /// grouping label lists and numbers, that are neither a function or aggregation (followed by '(') nor a keyword.
    /// </summary>
    public IReadOnlySet<string> MetricNames()
    {
        var text = Substituted;
        text = StringLiteral().Replace(text, " ");
        text = LabelMatchers().Replace(text, " ");
        text = Range().Replace(text, " ");
        text = GroupingLabels().Replace(text, " ");
        text = NumberOrDuration().Replace(text, " ");
        return Identifier().Matches(text)
            .Where(m => !Keywords.Contains(m.Value) && !FollowedByParenthesis(text, m.Index + m.Length))
            .Select(m => m.Value)
            .ToHashSet();
    }

    public override string ToString() => $"{Dashboard} {Where}: {Expression}";

    private static readonly HashSet<string> Keywords =
        ["by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or", "unless", "offset", "inf", "nan", "Inf", "NaN"];

    private static bool FollowedByParenthesis(string text, int index)
    {
        while (index < text.Length && char.IsWhiteSpace(text[index]))
        {
            index++;
        }
        return index < text.Length && text[index] == '(';
    }

    private static IEnumerable<JsonNode> Panels(JsonArray? panels)
    {
        foreach (var panel in panels ?? [])
        {
            yield return panel!;
            foreach (var nested in Panels(panel!["panels"]?.AsArray()))
            {
                yield return nested;
            }
        }
    }

    [GeneratedRegex(@"^\s*label_values\(\s*(?<selector>.+),\s*\w+\s*\)\s*$")]
    private static partial Regex LabelValues();

    [GeneratedRegex(@"\$__\w+|\$\{__\w+\}")]
    private static partial Regex BuiltInInterval();

    [GeneratedRegex(@"\$\{?\w+\}?")]
    private static partial Regex Variable();

    [GeneratedRegex("\"(?:[^\"\\\\]|\\\\.)*\"|'(?:[^'\\\\]|\\\\.)*'|`[^`]*`")]
    private static partial Regex StringLiteral();

    [GeneratedRegex(@"\{[^}]*\}")]
    private static partial Regex LabelMatchers();

    [GeneratedRegex(@"\[[^\]]*\]")]
    private static partial Regex Range();

    [GeneratedRegex(@"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")]
    private static partial Regex GroupingLabels();

    [GeneratedRegex(@"(?<![A-Za-z0-9_:])\d+(\.\d+)?([eE][+-]?\d+)?[a-z]*")]
    private static partial Regex NumberOrDuration();

    [GeneratedRegex(@"[A-Za-z_:][A-Za-z0-9_:]*")]
    private static partial Regex Identifier();
}
