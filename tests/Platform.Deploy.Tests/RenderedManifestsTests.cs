using System.Text.Json.Nodes;
using Platform.Testing;

namespace Platform.Deploy.Tests;

/// <summary>
/// Every object of every rendering a user can ask for — each chart with its defaults and with each values file it
/// ships, with and without the Prometheus Operator's API, and the platform chart with each option that adds objects
/// no values file asks for — is one the Kubernetes API accepts: built-in kinds against KubernetesClient's models,
/// the operator's custom resources against its CRDs.
/// </summary>
public sealed class RenderedManifestsTests
{
    /// <summary>Kinds whose schema this machine does not have (the Prometheus Operator's CRDs are not ours): checked by render tests of their own.</summary>
    private static readonly HashSet<string> WithoutSchemaHere = ["monitoring.coreos.com/v1/ServiceMonitor", "monitoring.coreos.com/v1/PrometheusRule"];

    /// <summary>`--set` options of the platform chart, each rendered over its defaults: what they add, no values file we ship has.</summary>
    private static readonly string[] PlatformOptions =
    [
        "files.contentVolume.enabled=true,files.contentVolume.storageClassName=nfs-client",
        "files.contentVolume.enabled=true,files.contentVolume.existingClaim=shared-files",
    ];

    public static TheoryData<string, string, string, string> Renderings()
    {
        var data = new TheoryData<string, string, string, string>();
        foreach (var chart in Repo.Charts)
        {
            foreach (var values in Directory.GetFiles(chart, "values-*.yaml").Order().Select(Path.GetFileName).Prepend("(defaults)"))
            {
                data.Add(Path.GetFileName(chart), values!, "", "");
                data.Add(Path.GetFileName(chart), values!, "monitoring.coreos.com/v1", "");
            }
        }
        foreach (var settings in PlatformOptions)
        {
            data.Add(Path.GetFileName(Repo.PlatformChart), "(defaults)", "", settings);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Renderings))]
    public async Task Every_rendered_object_is_one_the_kubernetes_api_accepts(string chart, string values, string apiVersions, string settings)
    {
        var manifests = await RenderAsync(Repo.Path("charts", chart), values, apiVersions, settings);

        Assert.NotEmpty(manifests);
        var violations = manifests.SelectMany(manifest => Violations(manifest).Select(v => $"{manifest["kind"]} {manifest.Name()}: {v}")).ToList();
        Assert.True(violations.Count == 0, $"{chart} with {values} {settings}:\n" + string.Join('\n', violations));
    }

    [Fact]
    public async Task A_misspelt_field_a_wrong_type_and_a_missing_required_field_in_a_template_are_each_refused()
    {
        var chart = CopyOfChart(Repo.PlatformChart);
        var deployment = Path.Combine(chart, "templates", "services", "deployment.yaml");
        var template = File.ReadAllText(deployment);
        Assert.Contains("readinessProbe:", template);
        File.WriteAllText(deployment, template.Replace("readinessProbe:", "readynessProbe:", StringComparison.Ordinal));

        var violations = (await RenderAsync(chart, "(defaults)", "")).SelectMany(Violations).ToList();

        Assert.Contains(violations, v => v.EndsWith("containers[0].readynessProbe: unknown field of V1Container", StringComparison.Ordinal));

        var service = (await RenderAsync(Repo.PlatformChart, "(defaults)", "")).OfKind("Deployment").First().DeepClone();
        var container = service["spec"]!["template"]!["spec"]!["containers"]![0]!.AsObject();
        container["ports"]![0]!["containerPort"] = "8080";
        container.Remove("name");
        service["spec"]!["replicas"] = "two";

        Assert.Equal(
            ["spec.replicas: String where the API wants an integer",
             "spec.template.spec.containers[0].name: required by V1Container",
             "spec.template.spec.containers[0].ports[0].containerPort: String where the API wants an integer"],
            KubernetesModels.Violations(service).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_custom_resource_that_does_not_fit_its_crd_is_refused()
    {
        var policy = (await RenderAsync(Repo.PlatformChart, "(defaults)", "")).OfKind("ScalingPolicy").Single().DeepClone();
        policy["spec"]!["targetRPS"] = 5;

        Assert.NotEmpty(Violations(policy));
    }

    private static IEnumerable<string> Violations(JsonNode manifest)
    {
        var apiVersion = (string)manifest["apiVersion"]!;
        var kind = (string)manifest["kind"]!;
        if (KubernetesModels.IsBuiltIn(apiVersion, kind))
        {
            return KubernetesModels.Violations(manifest);
        }
        if (apiVersion.StartsWith("platform.dev/", StringComparison.Ordinal))
        {
            return CustomResourceViolations(manifest, apiVersion, kind);
        }
        return WithoutSchemaHere.Contains($"{apiVersion}/{kind}") ? [] : [$"{apiVersion}/{kind}: neither a Kubernetes kind nor one of our CRDs"];
    }

    private static IEnumerable<string> CustomResourceViolations(JsonNode manifest, string apiVersion, string kind)
    {
        var crd = Directory.GetFiles(Path.Combine(Repo.OperatorChart, "crds"), "*.yaml")
            .Select(file => (File: file, Crd: YamlNodes.LoadFile(file)!))
            .SingleOrDefault(entry => (string)entry.Crd["spec"]!["names"]!["kind"]! == kind);
        if (crd.Crd is null)
        {
            return [$"{apiVersion}/{kind}: no CRD in the operator chart"];
        }
        var version = apiVersion["platform.dev/".Length..];
        var served = crd.Crd["spec"]!["versions"]!.AsArray().SingleOrDefault(v => (string)v!["name"]! == version && (bool)v["served"]!);
        if (served is null)
        {
            return [$"{apiVersion}/{kind}: the CRD serves no version {version}"];
        }
        var unknown = manifest.AsObject().Select(p => p.Key).Except(["apiVersion", "kind", "metadata", "spec"]).Select(key => $"{key}: unknown field");
        var spec = Schemas.FromCrd(Path.GetFileName(crd.File) + "/" + version, served["schema"]!["openAPIV3Schema"]!["properties"]!["spec"]!);
        return [.. unknown, .. Schemas.Violations(spec, manifest["spec"])];
    }

    /// <summary>`helm template` of a chart with a values file it ships (or its defaults) and `--set` settings, as a user would run it.</summary>
    internal static async Task<IReadOnlyList<JsonNode>> RenderAsync(string chart, string values, string apiVersions, string settings = "")
    {
        List<string> arguments = ["template", "platform", chart, "--namespace", "platform", "--include-crds"];
        if (values != "(defaults)")
        {
            arguments.AddRange(["-f", Path.Combine(chart, values)]);
        }
        // Without a registry the charts refuse to render, unless the values say the images are local (kind).
        if ((values == "(defaults)" || !File.ReadAllText(Path.Combine(chart, values)).Contains("localImages: true", StringComparison.Ordinal)))
        {
            arguments.AddRange(["--set", "global.imageRegistry=registry.example.com/platform"]);
        }
        if (apiVersions.Length > 0)
        {
            arguments.AddRange(["--api-versions", apiVersions]);
        }
        if (settings.Length > 0)
        {
            arguments.AddRange(["--set", settings]);
        }
        return [.. YamlNodes.LoadAll(await Helm.RunAsync([.. arguments])).OfType<JsonNode>()];
    }

    private static string CopyOfChart(string chart)
    {
        var copy = Path.Combine(ScratchDirectories.Create("chart"), Path.GetFileName(chart));
        foreach (var file in Directory.EnumerateFiles(chart, "*", new EnumerationOptions { RecurseSubdirectories = true }))
        {
            var target = Path.Combine(copy, Path.GetRelativePath(chart, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
        return copy;
    }
}
