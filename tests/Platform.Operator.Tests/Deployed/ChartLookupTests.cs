using System.Text;
using System.Text.Json.Nodes;
using Platform.Operator.Tests.Emulator;

namespace Platform.Operator.Tests.Deployed;

/// <summary>
/// What the platform chart decides from the cluster it is installed into (its <c>lookup</c> calls), rendered with
/// `helm template --dry-run=server` against the emulator holding what an earlier release left: `helm template` alone
/// cannot look, so these paths are otherwise only ever run by a real install or upgrade.
/// </summary>
public sealed class ChartLookupTests : IAsyncLifetime
{
    private static readonly string[] Registry = ["--set", "global.imageRegistry=registry.example"];
    private const string StatefulSets = "apis/apps/v1/namespaces/platform/statefulsets";
    private const string Deployments = EmulatorClient.Deployments;
    private const string Claims = "api/v1/namespaces/platform/persistentvolumeclaims";
    private const string StorageClasses = "apis/storage.k8s.io/v1/storageclasses";

    private ApiServerEmulator emulator = null!;

    public async Task InitializeAsync()
    {
        emulator = await ApiServerEmulator.StartAsync();
        // The platform's custom resources are served, as in a cluster the operator's chart was installed into first.
        foreach (var crd in (await Charts.TemplateAsync(Charts.Operator, ["--include-crds", .. Registry])).OfKind("CustomResourceDefinition"))
        {
            emulator.InstallCustomResourceDefinition(crd);
        }
    }

    public async Task DisposeAsync() => await emulator.DisposeAsync();

    [Fact]
    public async Task An_upgrade_keeps_every_generated_password_the_release_stored_and_an_install_makes_new_ones()
    {
        var installed = await RenderAsync();
        var again = await RenderAsync();
        var names = new[] { "platform-postgresql", "platform-postgresql-roles", "platform-redis", "platform-rabbitmq" };
        foreach (var name in names)
        {
            // Nothing to look up: each render generates its own.
            Assert.NotEqual(SecretData(installed, name).ToJsonString(), SecretData(again, name).ToJsonString());
            emulator.Put(EmulatorClient.Secrets, Released(installed.OfKind("Secret").Single(s => s.Name() == name)));
        }

        var upgraded = await RenderAsync();

        foreach (var name in names)
        {
            var stored = SecretData(installed, name);
            Assert.NotEmpty(stored);
            Assert.Equal(stored.ToJsonString(), SecretData(upgraded, name).ToJsonString());
        }
    }

    [Fact]
    public async Task A_stored_secret_missing_one_key_keeps_the_others_and_generates_that_one()
    {
        emulator.Put(EmulatorClient.Secrets, Secret("platform-postgresql-roles", new JsonObject { ["auth-password"] = Base64("kept"), ["tasks-password"] = Base64("kept too") }));

        var data = SecretData(await RenderAsync(), "platform-postgresql-roles");

        Assert.Equal(Base64("kept"), data["auth-password"]!.GetValue<string>());
        Assert.Equal(Base64("kept too"), data["tasks-password"]!.GetValue<string>());
        Assert.Equal(32, Encoding.UTF8.GetString(Convert.FromBase64String(data["files-password"]!.GetValue<string>())).Length);
    }

    [Fact]
    public async Task A_users_postgresql_secret_without_the_role_passwords_fails_the_release_naming_the_missing_keys()
    {
        string[] values = ["--set", "postgresql.auth.existingSecret=pg-credentials"];
        emulator.Put(EmulatorClient.Secrets, Secret("pg-credentials", new JsonObject
        {
            ["password"] = Base64("admin"), ["replication-password"] = Base64("replication"), ["tasks-password"] = Base64("tasks"),
        }));

        var (exitCode, _, errors) = await Charts.TemplateAgainstAsync(emulator, Charts.Platform, [.. Registry, .. values]);

        Assert.NotEqual(0, exitCode);
        Assert.Contains("Secret pg-credentials has no auth-password, files-password", errors);

        emulator.Put(EmulatorClient.Secrets, Secret("pg-credentials", new JsonObject
        {
            ["password"] = Base64("admin"), ["replication-password"] = Base64("replication"),
            ["auth-password"] = Base64("auth"), ["tasks-password"] = Base64("tasks"), ["files-password"] = Base64("files"),
        }));
        var complete = await Charts.TemplateAgainstAsync(emulator, Charts.Platform, [.. Registry, .. values]);
        Assert.True(complete.ExitCode == 0, complete.Errors);
        // Without the roles, the administrator's keys are all the release needs.
        emulator.Remove(EmulatorClient.Secrets, "pg-credentials");
        emulator.Put(EmulatorClient.Secrets, Secret("pg-credentials", new JsonObject { ["password"] = Base64("admin"), ["replication-password"] = Base64("replication") }));
        var withoutRoles = await Charts.TemplateAgainstAsync(emulator, Charts.Platform, [.. Registry, .. values, "--set", "postgresql.serviceRoles.enabled=false"]);
        Assert.True(withoutRoles.ExitCode == 0, withoutRoles.Errors);
    }

    [Theory]
    [InlineData("platform-postgresql", "postgresql.primary.persistence")]
    [InlineData("platform-postgresql-read", "postgresql.readReplicas.persistence")]
    [InlineData("platform-redis", "redis.persistence")]
    [InlineData("platform-rabbitmq", "rabbitmq.persistence")]
    public async Task A_data_tier_volume_whose_size_or_class_would_change_fails_the_release_before_anything_runs(string statefulSet, string path)
    {
        var installed = await RenderAsync("--set", $"{path}.size=8Gi");
        emulator.Put(StatefulSets, Released(installed.OfKind("StatefulSet").Single(s => s.Name() == statefulSet)));

        // The same size however it is written, and any other store's size, change nothing of this one.
        Assert.NotEmpty(await RenderAsync("--set", $"{path}.size=8192Mi"));
        Assert.NotEmpty(await RenderAsync("--set-string", $"{path}.size=8589934592"));
        Assert.NotEmpty(await RenderAsync("--set", $"{path}.size=8Gi", "--set", "redis.persistence.size=3Gi", "--set", "rabbitmq.persistence.size=3Gi",
            "--set", "postgresql.readReplicas.persistence.size=3Gi", "--set", "postgresql.primary.persistence.size=3Gi", "--set", $"{path}.size=8Gi"));

        var grown = await Charts.TemplateAgainstAsync(emulator, Charts.Platform, [.. Registry, "--set", $"{path}.size=16Gi"]);
        Assert.NotEqual(0, grown.ExitCode);
        Assert.Contains($"{path}.size is 16Gi, but the volumes of StatefulSet {statefulSet} were made with 8Gi", grown.Errors);
        Assert.Contains($"kubectl delete statefulset {statefulSet} --cascade=orphan", grown.Errors);

        var moved = await Charts.TemplateAgainstAsync(emulator, Charts.Platform, [.. Registry, "--set", $"{path}.size=8Gi", "--set", $"{path}.storageClass=fast"]);
        Assert.NotEqual(0, moved.ExitCode);
        Assert.Contains($"{path}.storageClass is \"fast\", but the volumes of StatefulSet {statefulSet} were made with \"\"", moved.Errors);
    }

    /// <summary>
    /// A size that is no whole number of bytes comes back from the API server in milli-bytes (its canonical form):
    /// the same size must not fail the upgrade, and a form the chart does not read is left to the API server.
    /// </summary>
    [Theory]
    [InlineData("107374182400m", "0.1Gi", true)]
    [InlineData("107374182400m", "1Gi", false)]
    [InlineData("1181116006400m", "1.1Gi", true)]
    [InlineData("8Gi", "8Gi", true)]
    public async Task A_live_volume_size_in_the_api_servers_canonical_form_compares_by_its_bytes(string live, string size, bool same)
    {
        var installed = await RenderAsync();
        var statefulSet = Released(installed.OfKind("StatefulSet").Single(s => s.Name() == "platform-redis"));
        statefulSet["spec"]!["volumeClaimTemplates"]![0]!["spec"]!["resources"]!["requests"]!["storage"] = live;
        emulator.Put(StatefulSets, statefulSet);

        var (exitCode, _, errors) = await Charts.TemplateAgainstAsync(emulator, Charts.Platform, [.. Registry, "--set", $"redis.persistence.size={size}"]);

        Assert.True(same == (exitCode == 0), errors);
        if (!same)
        {
            Assert.Contains($"redis.persistence.size is {size}, but the volumes of StatefulSet platform-redis were made with {live}", errors);
        }
    }

    /// <summary>
    /// files' content claim may grow but not shrink, and keeps its access modes and class: an upgrade that would change
    /// them fails before anything runs. A class the cluster's default filled in is not a change when the values name none.
    /// </summary>
    [Fact]
    public async Task The_files_content_claim_may_grow_but_not_shrink_or_change_its_modes_or_class()
    {
        string[] content = ["--set", "files.contentVolume.enabled=true", "--set", "files.contentVolume.size=100Gi",
            "--set", "scalingPolicy.create=false", "--set", "files.replicaCount=1", "--set", "files.contentVolume.accessModes={ReadWriteOnce}"];
        var installed = await RenderAsync(content);
        var claim = Released(installed.OfKind("PersistentVolumeClaim").Single(c => c.Name() == "platform-files-content"));
        claim["spec"]!["storageClassName"] = "standard"; // the default class, as the admission plugin sets it
        claim["status"] = new JsonObject { ["phase"] = "Pending" };
        emulator.Put(Claims, claim);

        var pending = await Charts.TemplateAgainstAsync(emulator, Charts.Platform, [.. Registry, .. content, "--set", "files.contentVolume.size=200Gi"]);
        Assert.Contains("claim platform-files-content (100Gi) is not bound yet, and only a bound claim can grow", pending.Errors);
        claim["status"] = new JsonObject { ["phase"] = "Bound" };
        emulator.Put(Claims, claim);
        emulator.Put(StorageClasses, StorageClass("standard", allowVolumeExpansion: true));

        // The class the claim has is kept when the values name none: leaving the field out would remove it.
        var same = await RenderAsync([.. content]);
        Assert.Equal("standard", same.OfKind("PersistentVolumeClaim").Single()["spec"]!["storageClassName"]!.GetValue<string>());
        Assert.NotEmpty(await RenderAsync([.. content, "--set", "files.contentVolume.size=200Gi"]));
        Assert.NotEmpty(await RenderAsync([.. content, "--set", "files.contentVolume.storageClassName=standard"]));

        var shrunk = await Charts.TemplateAgainstAsync(emulator, Charts.Platform, [.. Registry, .. content, "--set", "files.contentVolume.size=50Gi"]);
        Assert.Contains("files.contentVolume.size is 50Gi, but claim platform-files-content already has 100Gi, and a claim cannot shrink", shrunk.Errors);
        var modes = await Charts.TemplateAgainstAsync(emulator, Charts.Platform, [.. Registry, .. content, "--set", "files.contentVolume.accessModes={ReadWriteMany}"]);
        Assert.Contains("files.contentVolume.accessModes is [ReadWriteMany], but claim platform-files-content was made with [ReadWriteOnce]", modes.Errors);
        var moved = await Charts.TemplateAgainstAsync(emulator, Charts.Platform, [.. Registry, .. content, "--set", "files.contentVolume.storageClassName=fast"]);
        Assert.Contains("files.contentVolume.storageClassName is \"fast\", but claim platform-files-content was made with \"standard\"", moved.Errors);
        Assert.All(new[] { pending, shrunk, modes, moved }, r => Assert.NotEqual(0, r.ExitCode));
    }

    /// <summary>
    /// Growing the content claim needs a storage class that allows expansion, as the API server's
    /// PersistentVolumeClaimResize admission does: without one the release fails before its migrations, naming the class.
    /// </summary>
    [Fact]
    public async Task The_files_content_claim_grows_only_where_its_storage_class_allows_volume_expansion()
    {
        string[] content = ["--set", "files.contentVolume.enabled=true", "--set", "files.contentVolume.size=100Gi",
            "--set", "scalingPolicy.create=false", "--set", "files.replicaCount=1", "--set", "files.contentVolume.accessModes={ReadWriteOnce}"];
        string[] grown = [.. Registry, .. content, "--set", "files.contentVolume.size=200Gi"];
        var claim = Released((await RenderAsync(content)).OfKind("PersistentVolumeClaim").Single(c => c.Name() == "platform-files-content"));
        claim["spec"]!["storageClassName"] = "standard";
        claim["status"] = new JsonObject { ["phase"] = "Bound" };
        emulator.Put(Claims, claim);

        var missing = await Charts.TemplateAgainstAsync(emulator, Charts.Platform, grown);
        Assert.NotEqual(0, missing.ExitCode);
        Assert.Contains("the storage class \"standard\" of claim platform-files-content (100Gi) does not exist", missing.Errors);

        foreach (var allow in new bool?[] { null, false })
        {
            emulator.Put(StorageClasses, StorageClass("standard", allow));
            var refused = await Charts.TemplateAgainstAsync(emulator, Charts.Platform, grown);
            Assert.NotEqual(0, refused.ExitCode);
            Assert.Contains("the storage class \"standard\" of claim platform-files-content (100Gi) does not allow volume expansion", refused.Errors);
        }

        emulator.Put(StorageClasses, StorageClass("standard", allowVolumeExpansion: true));
        Assert.Equal("200Gi", (await RenderAsync(grown[Registry.Length..])).OfKind("PersistentVolumeClaim").Single()["spec"]!["resources"]!["requests"]!["storage"]!.GetValue<string>());
        // Not growing, or told not to check: no class is looked at.
        emulator.Remove(StorageClasses, "standard");
        var asked = emulator.Requests.Count(r => r.Collection == StorageClasses);
        Assert.NotEmpty(await RenderAsync(content));
        Assert.NotEmpty(await RenderAsync([.. grown[Registry.Length..], "--set", "files.contentVolume.checkExpansion=false"]));
        Assert.Equal(asked, emulator.Requests.Count(r => r.Collection == StorageClasses));

        // The beta annotation of claims made before storageClassName existed names the class, and wins over the field,
        // as in the API server's check.
        emulator.Put(StorageClasses, StorageClass("legacy", allowVolumeExpansion: true));
        emulator.Put(StorageClasses, StorageClass("standard", allowVolumeExpansion: false));
        claim["metadata"]!["annotations"]!["volume.beta.kubernetes.io/storage-class"] = "legacy";
        emulator.Put(Claims, claim);
        Assert.NotEmpty(await RenderAsync(grown[Registry.Length..]));
        claim["spec"]!.AsObject().Remove("storageClassName");
        emulator.Put(Claims, claim);
        Assert.NotEmpty(await RenderAsync(grown[Registry.Length..]));

        // Without any class (an empty annotation counts as one that says none) the claim was bound to a volume made by
        // hand, and cannot grow.
        claim["spec"]!["storageClassName"] = "standard";
        claim["metadata"]!["annotations"]!["volume.beta.kubernetes.io/storage-class"] = "";
        emulator.Put(StorageClasses, StorageClass("standard", allowVolumeExpansion: true));
        emulator.Put(Claims, claim);
        var unclassed = await Charts.TemplateAgainstAsync(emulator, Charts.Platform, grown);
        Assert.NotEqual(0, unclassed.ExitCode);
        Assert.Contains("claim platform-files-content (100Gi) has no storage class, and only a dynamically provisioned claim can grow", unclassed.Errors);
    }

    [Fact]
    public async Task Turning_the_scaling_policy_on_carries_over_each_services_replica_count_and_a_first_install_leaves_it_to_the_hpa()
    {
        var fresh = await RenderAsync("--set", "scalingPolicy.create=true");
        Assert.All(fresh.OfKind("Deployment"), d => Assert.Null(d["spec"]!["replicas"]));

        var before = await RenderAsync("--set", "scalingPolicy.create=false", "--set", "gateway.replicaCount=3", "--set", "tasks.replicaCount=3");
        var counts = new Dictionary<string, int> { ["platform-gateway"] = 5, ["platform-auth"] = 0, ["platform-tasks"] = 3, ["platform-files"] = 2 };
        foreach (var deployment in before.OfKind("Deployment"))
        {
            var live = Released(deployment);
            live["spec"]!["replicas"] = counts[deployment.Name()]; // as kubectl scale or an HPA left them
            emulator.Put(Deployments, live);
        }

        var after = await RenderAsync("--set", "scalingPolicy.create=true");

        Assert.Equal(counts.OrderBy(c => c.Key), after.OfKind("Deployment").Select(d => KeyValuePair.Create(d.Name(), (int)d["spec"]!["replicas"]!.GetValue<long>())).OrderBy(c => c.Key));
        Assert.Single(after.OfKind("ScalingPolicy"));
    }

    /// <summary>
    /// A release Helm writes server-side carries the count over only while the count is still its own: once the HPA has
    /// changed it (and so owns it), leaving it out removes nothing, and carrying it over could conflict with an HPA
    /// that scales while the upgrade runs its migrations. How Helm writes is read from Helm's own newest entry.
    /// </summary>
    [Theory]
    [InlineData("client-side, the HPA took the count", "Update", false, false, true)]
    [InlineData("client-side, another tool applied server-side", "Update", false, true, true)]
    [InlineData("server-side, the count still the release's", "Apply", true, false, true)]
    [InlineData("server-side, the HPA took the count", "Apply", false, false, false)]
    [InlineData("client-side before, server-side since, the HPA took the count", "Update,Apply", false, false, false)]
    [InlineData("server-side before, client-side since, the HPA took the count", "Apply,Update", false, false, true)]
    public async Task A_release_helm_writes_server_side_leaves_out_a_count_the_hpa_owns_and_carries_over_one_it_still_owns(
        string _, string helmOperations, bool releaseOwnsCount, bool foreignApply, bool carried)
    {
        var before = await RenderAsync("--set", "scalingPolicy.create=false");
        foreach (var deployment in before.OfKind("Deployment"))
        {
            var live = Released(deployment);
            live["spec"]!["replicas"] = 6;
            var managedFields = new JsonArray();
            var minute = 0;
            foreach (var operation in helmOperations.Split(','))
            {
                var fields = new JsonObject { ["f:spec"] = new JsonObject { ["f:revisionHistoryLimit"] = new JsonObject() } };
                if (releaseOwnsCount)
                {
                    fields["f:spec"]!["f:replicas"] = new JsonObject();
                }
                managedFields.Add(Entry("helm", operation, $"2026-12-01T10:{minute++:D2}:00Z", fields));
            }
            if (foreignApply)
            {
                managedFields.Add(Entry("kubectl", "Apply", "2026-12-01T11:00:00Z", new JsonObject { ["f:metadata"] = new JsonObject { ["f:labels"] = new JsonObject() } }));
            }
            if (!releaseOwnsCount)
            {
                var scale = Entry("kube-controller-manager", "Update", "2026-12-01T12:00:00Z", new JsonObject { ["f:spec"] = new JsonObject { ["f:replicas"] = new JsonObject() } });
                scale["subresource"] = "scale";
                managedFields.Add(scale);
            }
            live["metadata"]!["managedFields"] = managedFields;
            emulator.Put(Deployments, live);
        }

        var after = await RenderAsync("--set", "scalingPolicy.create=true");

        Assert.All(after.OfKind("Deployment"), d => Assert.Equal(carried ? 6 : null, (int?)d["spec"]!["replicas"]?.GetValue<long>()));
    }

    private static JsonObject Entry(string manager, string operation, string time, JsonObject fields) => new()
    {
        ["manager"] = manager, ["operation"] = operation, ["apiVersion"] = "apps/v1", ["time"] = time, ["fieldsType"] = "FieldsV1", ["fieldsV1"] = fields,
    };

    private async Task<IReadOnlyList<JsonObject>> RenderAsync(params string[] values)
    {
        var (exitCode, manifests, errors) = await Charts.TemplateAgainstAsync(emulator, Charts.Platform, [.. Registry, .. values]);
        Assert.True(exitCode == 0, errors);
        return manifests;
    }

    private static JsonObject SecretData(IEnumerable<JsonObject> manifests, string name) =>
        manifests.OfKind("Secret").Single(s => s.Name() == name)["data"]!.AsObject();

    private static JsonObject Secret(string name, JsonObject data) => Released(new JsonObject
    {
        ["apiVersion"] = "v1",
        ["kind"] = "Secret",
        ["metadata"] = new JsonObject { ["name"] = name, ["namespace"] = EmulatorClient.Namespace },
        ["type"] = "Opaque",
        ["data"] = data.DeepClone(),
    });

    private static JsonObject StorageClass(string name, bool? allowVolumeExpansion)
    {
        var storageClass = new JsonObject
        {
            ["apiVersion"] = "storage.k8s.io/v1",
            ["kind"] = "StorageClass",
            ["metadata"] = new JsonObject { ["name"] = name },
            ["provisioner"] = "ebs.csi.aws.com",
        };
        if (allowVolumeExpansion is { } allow)
        {
            storageClass["allowVolumeExpansion"] = allow;
        }
        return storageClass;
    }

    /// <summary>The object as an earlier release of this chart left it in the cluster: Helm's ownership marks on it.</summary>
    private static JsonObject Released(JsonObject manifest)
    {
        var copy = manifest.DeepClone().AsObject();
        var metadata = copy["metadata"]!.AsObject();
        (metadata["labels"] ??= new JsonObject())["app.kubernetes.io/managed-by"] = "Helm";
        var annotations = (metadata["annotations"] ??= new JsonObject()).AsObject();
        annotations["meta.helm.sh/release-name"] = Charts.Release;
        annotations["meta.helm.sh/release-namespace"] = Charts.Namespace;
        return copy;
    }

    private static string Base64(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text));
}
