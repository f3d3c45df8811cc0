using System.Text.Json.Nodes;

namespace Platform.Deploy.Tests;

/// <summary>
/// The operator chart carries the CRDs (written with the operator, whose tests use the same files), and the
/// SigningKeyRotation and ScalingPolicy the platform chart renders from its default values fit their schemas.
/// </summary>
public sealed class CrdContractTests
{
    public static TheoryData<string, string> Crds => new()
    {
        { "signingkeyrotations.platform.dev.yaml", "SigningKeyRotation" },
        { "scalingpolicies.platform.dev.yaml", "ScalingPolicy" },
    };

    [Theory]
    [MemberData(nameof(Crds))]
    public void The_operator_chart_installs_the_crd_namespaced_in_platform_dev_v1alpha1_with_a_status_subresource(string file, string kind)
    {
        var crd = Crd(file);
        var version = V1Alpha1(crd);

        Assert.Equal("apiextensions.k8s.io/v1", (string)crd["apiVersion"]!);
        Assert.Equal("platform.dev", (string)crd["spec"]!["group"]!);
        Assert.Equal(kind, (string)crd["spec"]!["names"]!["kind"]!);
        Assert.Equal("Namespaced", (string)crd["spec"]!["scope"]!);
        Assert.True((bool)version["served"]! && (bool)version["storage"]!);
        Assert.NotNull(version["subresources"]?["status"]);
    }

    [Fact]
    public void The_default_signing_key_rotation_fits_the_crd()
    {
        var rotation = Values()["signingKeys"]!["rotation"]!.AsObject();
        var spec = new JsonObject { ["secretName"] = "platform-signing-keys" };
        foreach (var (key, value) in rotation.Where(entry => entry.Key != "create" && !(entry.Key == "rotateNow" && (string?)entry.Value == "")))
        {
            spec[key] = value?.DeepClone();
        }

        Assert.Empty(Schemas.Violations(SpecSchema("signingkeyrotations.platform.dev.yaml"), spec));
    }

    [Fact]
    public void The_default_scaling_policy_fits_the_crd_and_targets_100000_rps_at_the_ingress()
    {
        var policy = Values()["scalingPolicy"]!;
        var services = new JsonArray();
        foreach (var (name, service) in policy["services"]!.AsObject())
        {
            var entry = service!.DeepClone().AsObject();
            entry["name"] = name;
            entry["deployment"] = "platform-" + name;
            services.Add(entry);
        }
        var spec = new JsonObject
        {
            ["targetRps"] = policy["targetRps"]!.DeepClone(),
            ["headroomPercent"] = policy["headroomPercent"]!.DeepClone(),
            ["services"] = services,
        };

        Assert.Equal(100000L, (long)policy["targetRps"]!);
        Assert.Empty(Schemas.Violations(SpecSchema("scalingpolicies.platform.dev.yaml"), spec));
    }

    private static JsonNode Values() => YamlNodes.LoadFile(Path.Combine(Repo.PlatformChart, "values.yaml"))!;

    private static JsonNode Crd(string file)
    {
        var path = Path.Combine(Repo.OperatorChart, "crds", file);
        Assert.True(File.Exists(path), $"{path} is missing: the operator's CRDs belong in the operator chart's crds/");
        return YamlNodes.LoadFile(path)!;
    }

    private static JsonNode V1Alpha1(JsonNode crd) => crd["spec"]!["versions"]!.AsArray().Single(v => (string)v!["name"]! == "v1alpha1")!;

    /// <summary>The CRD's structural schema of spec, read as JSON Schema.</summary>
    private static Json.Schema.JsonSchema SpecSchema(string file) =>
        Schemas.FromCrd(file, V1Alpha1(Crd(file))["schema"]!["openAPIV3Schema"]!["properties"]!["spec"]!);
}
