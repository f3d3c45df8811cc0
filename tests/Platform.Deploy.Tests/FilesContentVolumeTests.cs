using System.Text.Json.Nodes;
using Platform.Testing;

namespace Platform.Deploy.Tests;

/// <summary>
/// files.contentVolume: the volume the files pods keep new uploads' bytes on instead of PostgreSQL. One claim that
/// every files pod mounts and can write to, kept when the release goes, and a render that refuses a volume the pods
/// could not all share. Off by default, when it changes nothing.
/// </summary>
public sealed class FilesContentVolumeTests
{
    private const string ContentDirectory = "/var/lib/platform/files";

    /// <summary>
    /// Where the images were pushed, and the data tier's passwords in Secrets of the user's: a rendering then holds
    /// nothing random, so two of them can be compared.
    /// </summary>
    private static readonly string[] Pushed =
    [
        "--set", "global.imageRegistry=registry.example.com/platform", "--set", "postgresql.auth.existingSecret=postgresql",
        "--set", "redis.auth.existingSecret=redis", "--set", "rabbitmq.auth.existingSecret=rabbitmq",
    ];

    private static readonly string[] Enabled = [.. Pushed, "--set", "files.contentVolume.enabled=true"];

    [Fact]
    public async Task An_enabled_volume_is_a_kept_read_write_many_claim_that_the_files_pods_alone_mount_and_can_write_to()
    {
        var manifests = await Helm.TemplateAsync(Repo.PlatformChart, [.. Enabled, "--set", "files.contentVolume.storageClassName=efs-sc", "--set", "files.contentVolume.size=1Ti"]);

        var claim = Assert.Single(manifests.OfKind("PersistentVolumeClaim"));
        Assert.Equal("platform-files-content", claim.Name());
        Assert.Equal("keep", (string?)claim["metadata"]!["annotations"]?["helm.sh/resource-policy"]);
        Assert.Equal(["ReadWriteMany"], claim["spec"]!["accessModes"]!.AsArray().Select(mode => (string?)mode));
        Assert.Equal("efs-sc", (string?)claim["spec"]!["storageClassName"]);
        Assert.Equal("1Ti", (string?)claim["spec"]!["resources"]!["requests"]!["storage"]);

        var files = PodSpec(manifests, "platform-files");
        var container = files["containers"]![0]!;
        var volume = Assert.Single(files["volumes"]!.AsArray(), v => v!["persistentVolumeClaim"] is not null)!;
        var mount = Assert.Single(container["volumeMounts"]!.AsArray(), m => (string?)m!["name"] == (string?)volume["name"])!;
        Assert.Equal("platform-files-content", (string?)volume["persistentVolumeClaim"]!["claimName"]);
        Assert.Equal(ContentDirectory, (string?)mount["mountPath"]);
        Assert.Null(mount["readOnly"] ?? volume["persistentVolumeClaim"]!["readOnly"]);
        Assert.Equal(ContentDirectory, Variables(container)["Files__ContentDirectory"]);
        // The root filesystem stays read-only: the non-root user writes to the volume through the group the kubelet
        // gives it, 1654, the "app" group of the .NET image the Dockerfile runs as.
        Assert.True((bool)container["securityContext"]!["readOnlyRootFilesystem"]!);
        Assert.True((bool)files["securityContext"]!["runAsNonRoot"]!);
        Assert.Equal(1654, (long)files["securityContext"]!["fsGroup"]!);
        Assert.Equal("OnRootMismatch", (string?)files["securityContext"]!["fsGroupChangePolicy"]);
        Assert.Contains("USER $APP_UID", await File.ReadAllTextAsync(Repo.Path("Dockerfile")), StringComparison.Ordinal);

        foreach (var other in new[] { "platform-gateway", "platform-auth", "platform-tasks" })
        {
            var spec = PodSpec(manifests, other);
            Assert.DoesNotContain(spec["volumes"]!.AsArray(), v => v!["persistentVolumeClaim"] is not null);
            Assert.DoesNotContain("Files__ContentDirectory", Variables(spec["containers"]![0]!).Keys);
            Assert.Null(spec["securityContext"]!["fsGroup"]);
        }
    }

    [Fact]
    public async Task An_existing_claim_is_mounted_and_none_is_created()
    {
        var manifests = await Helm.TemplateAsync(Repo.PlatformChart, [.. Enabled, "--set", "files.contentVolume.existingClaim=shared-files"]);

        Assert.Empty(manifests.OfKind("PersistentVolumeClaim"));
        var volume = Assert.Single(PodSpec(manifests, "platform-files")["volumes"]!.AsArray(), v => v!["persistentVolumeClaim"] is not null)!;
        Assert.Equal("shared-files", (string?)volume["persistentVolumeClaim"]!["claimName"]);
    }

    /// <summary>Settings under which files may run more than one pod, and how the refusal counts them.</summary>
    public static TheoryData<string, string> SeveralFilesPods() => new()
    {
        { "", "up to 100 files pods (scalingPolicy.services.files.minReplicas and maxReplicas)" },
        // The operator never caps an HPA below its minimum.
        { "scalingPolicy.services.files.maxReplicas=1", "up to 2 files pods (scalingPolicy.services.files.minReplicas and maxReplicas)" },
        { "scalingPolicy.create=false", "up to 2 files pods (files.replicaCount)" },
    };

    [Theory]
    [MemberData(nameof(SeveralFilesPods))]
    public async Task A_volume_without_read_write_many_fails_the_render_when_files_may_run_more_than_one_pod(string settings, string pods)
    {
        var result = await RenderAsync([.. Enabled, "--set", "files.contentVolume.accessModes={ReadWriteOnce}", .. Set(settings)]);

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains($"files.contentVolume.accessModes must include ReadWriteMany: {pods} mount the one volume, and a ReadWriteOnce volume would pin them all to one node or leave them Pending", result.Output, StringComparison.Ordinal);
    }

    /// <summary>
    /// The control group of the refusals above: with a single files pod any access mode will do. A volume that
    /// attaches to one node or one pod cannot be mounted by a surge pod while the old one holds it (on another node
    /// the new pod waits on a Multi-Attach error; ReadWriteOncePod refuses a second pod anywhere), so a rolling update
    /// would never finish: that one pod is replaced by stopping it first. The other services still roll.
    /// </summary>
    [Theory]
    [InlineData("ReadWriteOnce", "scalingPolicy.services.files.minReplicas=1,scalingPolicy.services.files.maxReplicas=1")]
    [InlineData("ReadWriteOnce", "scalingPolicy.create=false,files.replicaCount=1")]
    [InlineData("ReadWriteOncePod", "scalingPolicy.create=false,files.replicaCount=1")]
    public async Task A_single_files_pod_may_have_a_volume_of_one_node_or_one_pod_and_is_replaced_by_recreating_it(string mode, string settings)
    {
        var manifests = await Helm.TemplateAsync(Repo.PlatformChart, [.. Enabled, "--set", $"files.contentVolume.accessModes={{{mode}}}", .. Set(settings)]);

        Assert.Equal([mode], Assert.Single(manifests.OfKind("PersistentVolumeClaim"))["spec"]!["accessModes"]!.AsArray().Select(m => (string?)m));
        var deployments = manifests.OfKind("Deployment").ToDictionary(d => d.Name(), d => d["spec"]!["strategy"]!);
        Assert.Equal("Recreate", (string?)deployments["platform-files"]["type"]);
        Assert.Null(deployments["platform-files"]["rollingUpdate"]);
        foreach (var other in new[] { "platform-gateway", "platform-auth", "platform-tasks" })
        {
            Assert.Equal("RollingUpdate", (string?)deployments[other]["type"]);
        }
    }

    [Fact]
    public async Task A_read_write_many_volume_keeps_the_rolling_update_that_never_goes_below_the_pods_wanted()
    {
        var manifests = await Helm.TemplateAsync(Repo.PlatformChart, [.. Enabled, "--set", "files.contentVolume.accessModes={ReadWriteMany}"]);

        var strategy = Assert.Single(manifests.OfKind("Deployment"), d => d.Name() == "platform-files")["spec"]!["strategy"]!;
        Assert.Equal("RollingUpdate", (string?)strategy["type"]);
        Assert.Equal(0, (long)strategy["rollingUpdate"]!["maxUnavailable"]!);
    }

    [Theory]
    [InlineData("var/lib/platform/files")]
    [InlineData("")]
    public async Task A_mount_path_that_is_not_absolute_fails_the_render(string path)
    {
        var result = await RenderAsync([.. Enabled, "--set", "files.contentVolume.mountPath=" + path]);

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains($"files.contentVolume.mountPath must be an absolute path, not \"{path}\"", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Disabled_by_default_it_renders_nothing_and_its_other_settings_change_nothing()
    {
        var defaults = await Helm.RunAsync(["template", "platform", Repo.PlatformChart, "--namespace", "platform", .. Pushed]);
        var configured = await Helm.RunAsync(["template", "platform", Repo.PlatformChart, "--namespace", "platform", .. Pushed,
            "--set", "files.contentVolume.existingClaim=shared-files", "--set", "files.contentVolume.accessModes={ReadWriteOnce}", "--set", "files.contentVolume.mountPath=relative"]);

        Assert.Equal(defaults, configured);
        var manifests = YamlNodes.LoadAll(defaults).OfType<JsonNode>().ToList();
        var files = PodSpec(manifests, "platform-files");
        Assert.Empty(manifests.OfKind("PersistentVolumeClaim"));
        Assert.DoesNotContain(files["volumes"]!.AsArray(), v => v!["persistentVolumeClaim"] is not null);
        Assert.DoesNotContain("Files__ContentDirectory", Variables(files["containers"]![0]!).Keys);
        Assert.Null(files["securityContext"]!["fsGroup"]);
    }

    private static Task<CommandResult> RenderAsync(string[] arguments) =>
        ShellCommand.RunAsync("helm", ["template", "platform", Repo.PlatformChart, "--namespace", "platform", .. arguments], environment: null, TimeSpan.FromMinutes(5));

    private static string[] Set(string settings) => settings.Length == 0 ? [] : ["--set", settings];

    private static JsonNode PodSpec(IEnumerable<JsonNode> manifests, string deployment) =>
        Assert.Single(manifests.OfKind("Deployment"), d => d.Name() == deployment)["spec"]!["template"]!["spec"]!;

    /// <summary>A container's environment variables by name, with their plain values (null for one from a Secret).</summary>
    private static Dictionary<string, string?> Variables(JsonNode container) =>
        container["env"]!.AsArray().ToDictionary(variable => (string)variable!["name"]!, variable => variable!["value"]?.ToString());
}
