using System.Text.Json.Nodes;

namespace Platform.Deploy.Tests;

/// <summary>skaffold.yaml and kind-config.yaml name the artefacts that exist, as `make dev` and `make kind-up` need them.</summary>
public sealed class SkaffoldAndKindTests
{
    private static readonly JsonNode Skaffold = YamlNodes.LoadFile(Repo.Path("skaffold.yaml"))!;
    private static readonly JsonNode Kind = YamlNodes.LoadFile(Repo.Path("kind-config.yaml"))!;

    public static TheoryData<string, string> Images => new()
    {
        { "platform-gateway", "services/Platform.Gateway" },
        { "platform-auth", "services/Platform.Auth" },
        { "platform-tasks", "services/Platform.Tasks" },
        { "platform-files", "services/Platform.Files" },
        { "platform-operator", "operator/Platform.Operator" },
    };

    [Fact]
    public void Skaffold_builds_exactly_the_five_images()
    {
        var names = Skaffold["build"]!["artifacts"]!.AsArray().Select(artifact => (string)artifact!["image"]!).Order();

        Assert.Equal(Images.Select(row => (string)row[0]).Order(), names);
    }

    [Theory]
    [MemberData(nameof(Images))]
    public void Each_image_builds_an_existing_project_with_an_existing_dockerfile(string image, string project)
    {
        var artifact = Skaffold["build"]!["artifacts"]!.AsArray().Single(a => (string)a!["image"]! == image)!;
        var context = Repo.Path((string)artifact["context"]!);
        var dockerfile = Path.Combine(context, (string)artifact["docker"]!["dockerfile"]!);

        Assert.True(File.Exists(dockerfile), $"{image}: {dockerfile} is missing");
        Assert.Equal(project, (string)artifact["docker"]!["buildArgs"]!["PROJECT"]!);
        Assert.True(File.Exists(Path.Combine(context, project, Path.GetFileName(project) + ".csproj")), $"{image}: {project} has no project file");
        Assert.Contains("ARG PROJECT", File.ReadAllText(dockerfile), StringComparison.Ordinal);
    }

    [Fact]
    public void Skaffold_deploys_the_operator_chart_before_the_platform_chart_into_one_namespace()
    {
        var releases = Skaffold["deploy"]!["helm"]!["releases"]!.AsArray();

        Assert.Equal(["charts/platform-operator", "charts/platform"], releases.Select(r => (string)r!["chartPath"]!));
        Assert.All(releases, release => Assert.True(Directory.Exists(Repo.Path((string)release!["chartPath"]!, "templates"))));
        Assert.Single(releases.Select(r => (string)r!["namespace"]!).Distinct());
    }

    [Theory]
    [MemberData(nameof(Images))]
    public void Skaffold_hands_each_built_image_to_the_chart_value_that_uses_it(string image, string project)
    {
        var releases = Skaffold["deploy"]!["helm"]!["releases"]!.AsArray();
        var release = releases.Single(r => (string)r!["chartPath"]! == (image == "platform-operator" ? "charts/platform-operator" : "charts/platform"))!;
        var prefix = image == "platform-operator" ? "" : image["platform-".Length..] + ".";
        var values = release["setValueTemplates"]!.AsObject();
        var key = image.Replace('-', '_');

        Assert.Equal($"{{{{.IMAGE_REPO_{key}}}}}", (string)values[prefix + "image.repository"]!);
        Assert.StartsWith($"{{{{.IMAGE_TAG_{key}}}}}", (string)values[prefix + "image.tag"]!, StringComparison.Ordinal);
        Assert.Equal("", (string)values[prefix + "image.registry"]!);
        Assert.NotNull(project);
    }

    [Fact]
    public void Skaffold_forwards_the_gateway_service_to_local_port_8080()
    {
        var forward = Assert.Single(Skaffold["portForward"]!.AsArray())!;

        Assert.Equal("service", (string)forward["resourceType"]!);
        Assert.Equal("platform-gateway", (string)forward["resourceName"]!);
        Assert.Equal(8080L, (long)forward["localPort"]!);
        Assert.Equal(80L, (long)forward["port"]!);
    }

    [Fact]
    public void Skaffold_has_a_kind_profile_that_targets_the_kind_cluster_with_the_kind_values_files()
    {
        var profile = Skaffold["profiles"]!.AsArray().Single(p => (string)p!["name"]! == "kind")!;
        var patches = profile["patches"]!.AsArray();
        var valuesFiles = patches.Where(p => ((string)p!["path"]!).EndsWith("/valuesFiles", StringComparison.Ordinal))
            .SelectMany(p => p!["value"]!.AsArray().Select(v => (string)v!)).ToList();

        Assert.Contains(patches, p => (string)p!["path"]! == "/deploy/kubeContext" && (string)p["value"]! == "kind-" + (string)Kind["name"]!);
        Assert.Equal(["charts/platform-operator/values-kind.yaml", "charts/platform/values-kind.yaml"], valuesFiles);
        Assert.All(valuesFiles, file => Assert.True(File.Exists(Repo.Path(file)), file));
    }

    [Fact]
    public void Kind_has_one_control_plane_and_two_workers()
    {
        var roles = Kind["nodes"]!.AsArray().Select(node => (string)node!["role"]!).ToList();

        Assert.Equal("kind.x-k8s.io/v1alpha4", (string)Kind["apiVersion"]!);
        Assert.Equal(["control-plane", "worker", "worker"], roles);
    }

    [Fact]
    public void Kinds_control_plane_is_ingress_ready_and_maps_ports_80_and_443()
    {
        var controlPlane = Kind["nodes"]!.AsArray().Single(node => (string)node!["role"]! == "control-plane")!;
        var patches = string.Join('\n', controlPlane["kubeadmConfigPatches"]!.AsArray().Select(p => (string)p!));
        var mappings = controlPlane["extraPortMappings"]!.AsArray()
            .Select(m => ((long)m!["containerPort"]!, (long)m["hostPort"]!)).Order().ToList();

        Assert.Contains("node-labels: \"ingress-ready=true\"", patches, StringComparison.Ordinal);
        Assert.Equal([(80L, 80L), (443L, 443L)], mappings);
    }
}
