using System.Text.RegularExpressions;
using Platform.Operator.Keys;
using Platform.Testing;
using YamlDotNet.RepresentationModel;

namespace Platform.Operator.Tests;

/// <summary>
/// The API server must refuse exactly the durations the operator refuses: a SigningKeyRotation it admits but the
/// operator cannot parse sits InvalidSpec instead of failing at <c>kubectl apply</c>. The CRD's OpenAPI
/// <c>format: duration</c> is Go's time.ParseDuration (negative values, ns, us, ".5s"), wider than
/// <see cref="GoDuration"/>, so the CRD carries a pattern instead, compared here string by string.
/// </summary>
public sealed class CrdDurationTests
{
    public static TheoryData<string> Durations() =>
    [
        "90s", "10m", "1h30m", "720h", "1.5h", "500ms", "0s", "10m30s", "1h1h", "0.25s", "007m",
        "", "0", "-1h", "+1h", "1d", "1w", "1us", "1µs", "1ns", ".5s", "1.s", "1H", "h", "1h 30m", " 10m", "10m\n", "1e3s", "1.5.5s", "30 days", "999999h", "1000000h", "99999999999999999999h", "0.123456789s", "0.1234567891s",
        "999999h999999h999999h999999h999999h999999h999999h999999h", "999999h999999h999999h999999h999999h999999h999999h999999h999999h999999h",
    ];

    [Theory]
    [MemberData(nameof(Durations))]
    public void The_crd_admits_a_duration_exactly_when_the_operator_parses_it(string duration)
    {
        foreach (var (field, pattern) in DurationPatterns())
        {
            var admitted = Matches(pattern, duration) && duration.Length <= int.Parse(SpecProperty(field)["maxLength"].ToString(), System.Globalization.CultureInfo.InvariantCulture);
            Assert.True(GoDuration.TryParse(duration, out _) == admitted,
                $"{field}: the CRD {(admitted ? "admits" : "refuses")} \"{duration}\" but the operator {(GoDuration.TryParse(duration, out _) ? "parses" : "refuses")} it");
        }
    }

    [Fact]
    public void Every_duration_field_of_the_crd_has_the_pattern_and_a_default_the_operator_parses()
    {
        var patterns = DurationPatterns();

        Assert.Equal(["prePublish", "retireAfter", "rotationPeriod"], patterns.Keys.Order());
        foreach (var field in patterns.Keys)
        {
            Assert.True(GoDuration.TryParse(SpecProperty(field)["default"].ToString(), out _), field);
        }
    }

    /// <summary>The API server evaluates a pattern with Go's RE2, where $ is the end of the text; .NET's $ also matches before a final newline.</summary>
    private static bool Matches(string pattern, string text) =>
        Regex.IsMatch(text, pattern.EndsWith('$') ? pattern[..^1] + @"\z" : pattern, RegexOptions.CultureInvariant);

    private static Dictionary<string, string> DurationPatterns()
    {
        var spec = (YamlMappingNode)Spec()["properties"];
        return spec.Children
            .Where(p => p.Key.ToString() is "rotationPeriod" or "prePublish" or "retireAfter" || ((YamlMappingNode)p.Value).Children.ContainsKey("format"))
            .ToDictionary(p => p.Key.ToString(), p => ((YamlMappingNode)p.Value).Children.TryGetValue("pattern", out var pattern) ? pattern.ToString() : "");
    }

    private static YamlMappingNode SpecProperty(string name) => (YamlMappingNode)((YamlMappingNode)Spec()["properties"])[name];

    private static YamlMappingNode Spec()
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(File.ReadAllText(Path.Combine(RepoPaths.Root, "charts", "platform-operator", "crds", "signingkeyrotations.platform.dev.yaml"))));
        var version = ((YamlSequenceNode)stream.Documents[0].RootNode["spec"]["versions"]).Children.Single(v => v["name"].ToString() == "v1alpha1");
        return (YamlMappingNode)version["schema"]["openAPIV3Schema"]["properties"]["spec"];
    }
}
