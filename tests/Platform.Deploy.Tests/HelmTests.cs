using System.Text.Json.Nodes;
using Platform.Testing;

namespace Platform.Deploy.Tests;

/// <summary>What only helm can check: the charts lint, render to manifests Kubernetes accepts, and say what the contracts say.</summary>
public sealed class HelmTests
{
    /// <summary>Where the renderings below say the platform's images were pushed: without a registry the chart refuses to render.</summary>
    private static readonly string[] Pushed = ["--set", "global.imageRegistry=registry.example.com/platform"];

    private static IEnumerable<(string Chart, string? ValuesFile)> Renderings() =>
        Repo.Charts.SelectMany(chart => Directory.GetFiles(chart, "values-*.yaml").Order().Select(f => (chart, (string?)f)).Prepend((chart, null)));

    private static string[] Arguments(string chart, string? values) =>
        [.. values is null ? Array.Empty<string>() : ["-f", values], .. values is not null && File.ReadAllText(values).Contains("localImages: true", StringComparison.Ordinal) ? [] : Pushed];

    [Fact]
    public async Task Both_charts_lint_strictly_with_every_values_file()
    {
        foreach (var (chart, values) in Renderings())
        {
            await Helm.RunAsync(["lint", chart, "--strict", .. Arguments(chart, values)]);
        }
    }

    [Fact]
    public async Task The_rendered_custom_resources_fit_the_operator_crds_and_no_hpa_is_templated()
    {
        var manifests = await Helm.TemplateAsync(Repo.PlatformChart, Pushed);
        var policy = Assert.Single(manifests.OfKind("ScalingPolicy"));
        var rotation = Assert.Single(manifests.OfKind("SigningKeyRotation"));

        Assert.Empty(manifests.OfKind("HorizontalPodAutoscaler"));
        Assert.Empty(Schemas.Violations(CrdSpec("scalingpolicies.platform.dev.yaml"), policy["spec"]));
        Assert.Empty(Schemas.Violations(CrdSpec("signingkeyrotations.platform.dev.yaml"), rotation["spec"]));
        var deployments = manifests.OfKind("Deployment").Select(d => d.Name()).ToHashSet();
        Assert.All(policy["spec"]!["services"]!.AsArray(), service => Assert.Contains((string)service!["deployment"]!, deployments));
        var auth = manifests.OfKind("Deployment").Single(d => d.Name() == "platform-auth");
        var keys = auth["spec"]!["template"]!["spec"]!["volumes"]!.AsArray().Single(v => v!["secret"] is not null)!;
        Assert.Equal((string)rotation["spec"]!["secretName"]!, (string)keys["secret"]!["secretName"]!);
    }

    [Fact]
    public async Task Auth_pods_carry_the_label_the_operator_selects_them_by()
    {
        var manifests = await Helm.TemplateAsync(Repo.PlatformChart, Pushed);
        var auth = manifests.OfKind("Deployment").Single(d => d.Name() == "platform-auth");

        Assert.Equal("auth", (string)auth["spec"]!["template"]!["metadata"]!["labels"]!["app.kubernetes.io/name"]!);
    }

    [Fact]
    public async Task Migrations_are_pre_install_hooks_against_an_external_database_and_plain_jobs_beside_the_bundled_one()
    {
        var bundled = await Helm.TemplateAsync(Repo.PlatformChart, Pushed);
        var external = await Helm.TemplateAsync(Repo.PlatformChart, ["-f", Path.Combine(Repo.PlatformChart, "values-external-datatier.yaml"), .. Pushed]);

        Assert.Equal(3, bundled.OfKind("Job").Count(j => j.Name().EndsWith("-migrate-install", StringComparison.Ordinal) && j["metadata"]!["annotations"]?["helm.sh/hook"] is null));
        Assert.Equal(3, external.OfKind("Job").Count(j => (string?)j["metadata"]!["annotations"]?["helm.sh/hook"] == "pre-install"));
        Assert.Empty(external.OfKind("StatefulSet"));
    }

    [Fact]
    public async Task A_forward_auth_ingress_asks_the_gateways_verify_endpoint_and_passes_the_identity_headers()
    {
        var manifests = await Helm.TemplateAsync(Repo.PlatformChart, [.. Pushed,
            "--set-json", "forwardAuth.ingresses=[{\"name\":\"grafana\",\"host\":\"grafana.example.com\",\"service\":{\"name\":\"grafana\",\"port\":80}}]"]);
        var ingress = manifests.OfKind("Ingress").Single(i => i.Name() == "platform-forward-auth-grafana");
        var annotations = ingress["metadata"]!["annotations"]!;

        Assert.Equal("http://platform-gateway.platform.svc.cluster.local/api/auth/verify", (string)annotations["nginx.ingress.kubernetes.io/auth-url"]!);
        Assert.Equal("X-User-Id,X-User-Email,X-Session-Id", (string)annotations["nginx.ingress.kubernetes.io/auth-response-headers"]!);
    }

    private static Json.Schema.JsonSchema CrdSpec(string file)
    {
        var crd = YamlNodes.LoadFile(Path.Combine(Repo.OperatorChart, "crds", file))!;
        var version = crd["spec"]!["versions"]!.AsArray().Single(v => (string)v!["name"]! == "v1alpha1")!;
        return Schemas.FromCrd(file, version["schema"]!["openAPIV3Schema"]!["properties"]!["spec"]!);
    }
}
