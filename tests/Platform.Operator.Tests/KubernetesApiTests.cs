using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Platform.Operator.Kubernetes;
using Platform.Operator.Resources;
using Platform.Operator.Tests.Emulator;

namespace Platform.Operator.Tests;

/// <summary>The operator's Kubernetes client, verb by verb, against the API-server emulator.</summary>
public sealed class KubernetesApiTests : IAsyncLifetime
{
    private ApiServerEmulator emulator = null!;
    private KubernetesApi api = null!;

    public async Task InitializeAsync()
    {
        emulator = await ApiServerEmulator.StartAsync();
        api = EmulatorClient.Connect(emulator);
    }

    public async Task DisposeAsync()
    {
        api.Dispose();
        await emulator.DisposeAsync();
    }

    private static V1Secret Secret(string name, string value, Dictionary<string, string>? labels = null) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, Labels = labels },
        Data = new Dictionary<string, byte[]> { ["value"] = Encoding.UTF8.GetBytes(value) },
    };

    /// <summary>The emulator serves StorageClasses as the API server does: outside any namespace, and only there.</summary>
    [Fact]
    public async Task The_emulator_serves_a_cluster_scoped_kind_outside_any_namespace_only()
    {
        using var http = new HttpClient { BaseAddress = emulator.BaseAddress };
        var body = new JsonObject { ["apiVersion"] = "storage.k8s.io/v1", ["kind"] = "StorageClass", ["metadata"] = new JsonObject { ["name"] = "fast" }, ["provisioner"] = "example.com/disk" };

        using var created = await http.PostAsync("/apis/storage.k8s.io/v1/storageclasses", new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var read = JsonNode.Parse(await http.GetStringAsync("/apis/storage.k8s.io/v1/storageclasses/fast"))!;
        Assert.Equal("example.com/disk", read["provisioner"]!.GetValue<string>());
        Assert.Null(read["metadata"]!["namespace"]);
        Assert.Single(JsonNode.Parse(await http.GetStringAsync("/apis/storage.k8s.io/v1/storageclasses"))!["items"]!.AsArray());
        using var namespaced = await http.GetAsync("/apis/storage.k8s.io/v1/namespaces/platform/storageclasses/fast");
        Assert.Equal(HttpStatusCode.NotFound, namespaced.StatusCode);
        var discovery = JsonNode.Parse(await http.GetStringAsync("/apis/storage.k8s.io/v1"))!["resources"]!.AsArray();
        Assert.False(discovery.Single(r => r!["name"]!.GetValue<string>() == "storageclasses")!["namespaced"]!.GetValue<bool>());
        // Namespaced paths route as before.
        await api.CreateAsync(Secret("a", "one"), CancellationToken.None);
        Assert.NotNull(emulator.Find(EmulatorClient.Secrets, "a"));
    }

    [Fact]
    public async Task Create_get_replace_and_delete_round_trip_with_resource_versions()
    {
        var created = await api.CreateAsync(Secret("a", "one"), CancellationToken.None);
        Assert.False(string.IsNullOrEmpty(created.Metadata.Uid));

        var read = await api.GetAsync<V1Secret>("a", CancellationToken.None);
        Assert.Equal("one", Encoding.UTF8.GetString(read.Data["value"]));
        read.Data["value"] = Encoding.UTF8.GetBytes("two");
        var replaced = await api.ReplaceAsync(read, CancellationToken.None);
        Assert.NotEqual(created.Metadata.ResourceVersion, replaced.Metadata.ResourceVersion);

        await api.DeleteAsync<V1Secret>("a", CancellationToken.None);
        Assert.Null(await api.FindAsync<V1Secret>("a", CancellationToken.None));
    }

    [Fact]
    public async Task Errors_are_typed_and_carry_the_api_status_message()
    {
        var missing = await Assert.ThrowsAsync<NotFoundException>(() => api.GetAsync<V1Secret>("nope", CancellationToken.None));
        Assert.Contains("\"nope\" not found", missing.Message, StringComparison.Ordinal);

        await api.CreateAsync(Secret("a", "one"), CancellationToken.None);
        var exists = await Assert.ThrowsAsync<ConflictException>(() => api.CreateAsync(Secret("a", "again"), CancellationToken.None));
        Assert.Equal("AlreadyExists", exists.Reason);

        var stale = await api.GetAsync<V1Secret>("a", CancellationToken.None);
        var fresh = await api.GetAsync<V1Secret>("a", CancellationToken.None);
        fresh.Data["value"] = [1];
        await api.ReplaceAsync(fresh, CancellationToken.None);
        stale.Data["value"] = [2];
        var conflict = await Assert.ThrowsAsync<ConflictException>(() => api.ReplaceAsync(stale, CancellationToken.None));
        Assert.Contains("has been modified", conflict.Message, StringComparison.Ordinal);

        emulator.Faults = new EmulatorFaults(ErrorRate: 1);
        var unavailable = await Assert.ThrowsAsync<UnavailableException>(() => api.ListAsync<V1Secret>(null, CancellationToken.None));
        Assert.Equal(HttpStatusCode.InternalServerError, unavailable.StatusCode);
        emulator.Faults = EmulatorFaults.None;

        emulator.AcceptedTokens = new HashSet<string> { "someone-else" };
        await Assert.ThrowsAsync<ForbiddenException>(() => api.ListAsync<V1Secret>(null, CancellationToken.None));
    }

    [Fact]
    public async Task An_unreachable_server_is_unavailable()
    {
        var port = emulator.BaseAddress.Port;
        await emulator.DisposeAsync();
        using var orphan = new KubernetesApi(new KubernetesClientConfiguration { Host = $"http://127.0.0.1:{port}" }, EmulatorClient.Namespace, TimeSpan.FromSeconds(5));

        await Assert.ThrowsAsync<UnavailableException>(() => orphan.ListAsync<V1Secret>(null, CancellationToken.None));
        emulator = await ApiServerEmulator.StartAsync();
    }

    [Fact]
    public async Task List_filters_by_label_selector_and_returns_the_collection_version()
    {
        await api.CreateAsync(Secret("a", "1", new() { ["app"] = "auth" }), CancellationToken.None);
        await api.CreateAsync(Secret("b", "2", new() { ["app"] = "tasks" }), CancellationToken.None);
        await api.CreateAsync(Secret("c", "3"), CancellationToken.None);

        Assert.Equal(["a"], (await api.ListAsync<V1Secret>("app=auth", CancellationToken.None)).Items.Select(s => s.Metadata.Name));
        Assert.Equal(["b"], (await api.ListAsync<V1Secret>("app,app!=auth", CancellationToken.None)).Items.Select(s => s.Metadata.Name));
        var all = await api.ListAsync<V1Secret>(null, CancellationToken.None);
        Assert.Equal(3, all.Items.Count);
        Assert.False(string.IsNullOrEmpty(all.ResourceVersion));
    }

    /// <summary>
    /// A field selector metadata.name=NAME — how the operator lists and watches its keyset Secret, so that a Role can
    /// grant those by name — sees that one object, alone or with a label selector, and the server is told the name.
    /// </summary>
    [Fact]
    public async Task List_and_watch_by_field_selector_see_only_the_named_object_and_label_selectors_still_apply()
    {
        await api.CreateAsync(Secret("keys", "1", new() { ["app"] = "auth" }), CancellationToken.None);
        await api.CreateAsync(Secret("postgres", "2", new() { ["app"] = "auth" }), CancellationToken.None);

        var named = await api.ListAsync<V1Secret>(null, "metadata.name=keys", CancellationToken.None);
        Assert.Equal(["keys"], named.Items.Select(s => s.Metadata.Name));
        Assert.False(string.IsNullOrEmpty(named.ResourceVersion));
        Assert.Equal(["keys"], (await api.ListAsync<V1Secret>("app=auth", "metadata.name=keys", CancellationToken.None)).Items.Select(s => s.Metadata.Name));
        Assert.Empty((await api.ListAsync<V1Secret>("app=tasks", "metadata.name=keys", CancellationToken.None)).Items);
        Assert.Equal(["postgres"], (await api.ListAsync<V1Secret>(null, "metadata.name!=keys", CancellationToken.None)).Items.Select(s => s.Metadata.Name));
        Assert.Equal(["keys", "postgres"], (await api.ListAsync<V1Secret>("app=auth", null, CancellationToken.None)).Items.Select(s => s.Metadata.Name));
        var unsupported = await Assert.ThrowsAsync<UnavailableException>(() => api.ListAsync<V1Secret>(null, "spec.owner=me", CancellationToken.None));
        Assert.Equal(HttpStatusCode.BadRequest, unsupported.StatusCode);
        Assert.Contains("field label not supported", unsupported.Message, StringComparison.Ordinal);

        foreach (var name in new[] { "postgres", "keys" })
        {
            var secret = await api.GetAsync<V1Secret>(name, CancellationToken.None);
            secret.Data["value"] = Encoding.UTF8.GetBytes("changed");
            await api.ReplaceAsync(secret, CancellationToken.None);
        }
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        WatchEvent<V1Secret>? change = null;
        await foreach (var watched in api.WatchAsync<V1Secret>(null, "metadata.name=keys", named.ResourceVersion, stop.Token))
        {
            change = watched;
            break;
        }

        Assert.Equal(WatchEventType.Modified, change!.Type);
        Assert.Equal("keys", change.Resource!.Metadata.Name);
        // The name the authorizer sees: only a metadata.name=NAME term names a list or watch.
        Assert.Equal<string?>(["keys", "keys", "keys", null, null, null, "keys"], emulator.Requests.Where(r => r.Verb is "list" or "watch").Select(r => r.Name));
    }

    [Fact]
    public async Task The_status_subresource_changes_only_status_and_spec_changes_bump_the_generation()
    {
        var created = await api.CreateAsync(new ScalingPolicy { Metadata = new V1ObjectMeta { Name = "p" }, Spec = new ScalingPolicySpec { TargetRps = 100 } }, CancellationToken.None);
        Assert.Equal(1, created.Metadata.Generation);

        created.Status = new ScalingPolicyStatus { ObservedGeneration = 1, ServiceCount = 3 };
        created.Spec.TargetRps = 999;
        var afterStatus = await api.ReplaceStatusAsync(created, CancellationToken.None);
        Assert.Equal(3, afterStatus.Status!.ServiceCount);
        Assert.Equal(100, afterStatus.Spec.TargetRps);
        Assert.Equal(1, afterStatus.Metadata.Generation);

        afterStatus.Spec.TargetRps = 200;
        afterStatus.Status.ServiceCount = 0;
        var afterSpec = await api.ReplaceAsync(afterStatus, CancellationToken.None);
        Assert.Equal(2, afterSpec.Metadata.Generation);
        Assert.Equal(3, afterSpec.Status!.ServiceCount);
    }

    [Fact]
    public async Task Merge_patch_changes_and_removes_fields()
    {
        await api.CreateAsync(Secret("a", "one", new() { ["keep"] = "yes", ["drop"] = "yes" }), CancellationToken.None);

        var patched = await api.MergePatchAsync<V1Secret>("a", new { metadata = new { labels = new Dictionary<string, string?> { ["drop"] = null, ["new"] = "yes" } } }, CancellationToken.None);

        Assert.Equal(new Dictionary<string, string> { ["keep"] = "yes", ["new"] = "yes" }, patched.Metadata.Labels);
    }

    [Fact]
    public async Task Server_side_apply_creates_then_updates_and_drops_fields_it_no_longer_sets()
    {
        V2HorizontalPodAutoscaler Hpa(int max, string? extraLabel) => new()
        {
            Metadata = new V1ObjectMeta { Name = "tasks", Labels = extraLabel is null ? new Dictionary<string, string> { ["a"] = "1" } : new Dictionary<string, string> { ["a"] = "1", [extraLabel] = "1" } },
            Spec = new V2HorizontalPodAutoscalerSpec { MaxReplicas = max, MinReplicas = 2, ScaleTargetRef = new V2CrossVersionObjectReference { ApiVersion = "apps/v1", Kind = "Deployment", Name = "tasks" } },
        };

        var created = await api.ApplyAsync(Hpa(10, "b"), CancellationToken.None);
        var updated = await api.ApplyAsync(Hpa(20, null), CancellationToken.None);
        var unchanged = await api.ApplyAsync(Hpa(20, null), CancellationToken.None);

        Assert.Equal(10, created.Spec.MaxReplicas);
        Assert.Equal(20, updated.Spec.MaxReplicas);
        Assert.Equal(new Dictionary<string, string> { ["a"] = "1" }, updated.Metadata.Labels);
        Assert.Equal(updated.Metadata.ResourceVersion, unchanged.Metadata.ResourceVersion);
    }

    [Fact]
    public async Task Deleting_an_owner_deletes_what_it_owns()
    {
        var owner = await api.CreateAsync(new SigningKeyRotation { Metadata = new V1ObjectMeta { Name = "keys" }, Spec = new SigningKeyRotationSpec { SecretName = "s" } }, CancellationToken.None);
        var owned = Secret("s", "x");
        owned.Metadata.OwnerReferences = [Owner.Of(owner)];
        await api.CreateAsync(owned, CancellationToken.None);

        await api.DeleteAsync<SigningKeyRotation>("keys", CancellationToken.None);

        Assert.Null(await api.FindAsync<V1Secret>("s", CancellationToken.None));
    }

    [Fact]
    public async Task A_watch_delivers_changes_after_its_version_with_bookmarks_and_resumes_from_the_last_one_seen()
    {
        var list = await api.ListAsync<V1Secret>(null, CancellationToken.None);
        await api.CreateAsync(Secret("before", "1"), CancellationToken.None);
        var seen = new List<WatchEvent<V1Secret>>();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(10));

        await foreach (var change in api.WatchAsync<V1Secret>(null, list.ResourceVersion, stop.Token))
        {
            seen.Add(change);
            if (seen.Count == 1)
            {
                await api.CreateAsync(Secret("during", "2"), CancellationToken.None);
            }
            if (seen.Any(e => e.Type == WatchEventType.Bookmark) && seen.Count(e => e.Type == WatchEventType.Added) == 2)
            {
                break;
            }
        }

        Assert.Equal(["before", "during"], seen.Where(e => e.Type == WatchEventType.Added).Select(e => e.Resource!.Metadata.Name));
        var bookmark = seen.Last(e => e.Type == WatchEventType.Bookmark);
        Assert.Null(bookmark.Resource);

        await api.CreateAsync(Secret("after", "3"), CancellationToken.None);
        await foreach (var change in api.WatchAsync<V1Secret>(null, seen.Last(e => e.Type == WatchEventType.Added).ResourceVersion, stop.Token))
        {
            Assert.Equal("after", change.Resource!.Metadata.Name);
            break;
        }
    }

    [Fact]
    public async Task A_watch_from_a_compacted_version_is_gone_and_a_new_list_resumes_it()
    {
        var old = await api.ListAsync<V1Secret>(null, CancellationToken.None);
        await api.CreateAsync(Secret("a", "1"), CancellationToken.None);
        emulator.Compact();

        var gone = await Assert.ThrowsAsync<GoneException>(async () =>
        {
            await foreach (var unused in api.WatchAsync<V1Secret>(null, old.ResourceVersion, CancellationToken.None))
            {
                Assert.Fail("no event should arrive from a compacted version");
            }
        });
        Assert.Equal("Expired", gone.Reason);

        var relisted = await api.ListAsync<V1Secret>(null, CancellationToken.None);
        Assert.Single(relisted.Items);
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await api.CreateAsync(Secret("b", "2"), CancellationToken.None);
        await foreach (var change in api.WatchAsync<V1Secret>(null, relisted.ResourceVersion, stop.Token))
        {
            Assert.Equal("b", change.Resource!.Metadata.Name);
            break;
        }
    }

    /// <summary>
    /// A half-open connection or a stuck proxy: the call must end, or it holds a controller's only worker for good.
    /// KubernetesClient's HttpClient has no timeout of its own; before this the call waited for the emulator's 5 minutes.
    /// </summary>
    [Fact]
    public async Task A_call_the_server_never_answers_fails_as_unavailable_at_the_request_timeout()
    {
        using var impatient = new KubernetesApi(
            new KubernetesClientConfiguration { Host = emulator.BaseAddress.ToString(), AccessToken = EmulatorClient.Token, HttpClientTimeout = TimeSpan.FromSeconds(1) },
            EmulatorClient.Namespace, TimeSpan.FromSeconds(30));
        emulator.Faults = new EmulatorFaults(Latency: TimeSpan.FromMinutes(5));
        var bound = TimeSpan.FromSeconds(30);

        var read = await Assert.ThrowsAsync<UnavailableException>(() => impatient.GetAsync<V1Secret>("a", CancellationToken.None)).WaitAsync(bound);
        Assert.Contains("no answer within 1 s", read.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<UnavailableException>(() => impatient.ListAsync<V1Secret>(null, CancellationToken.None)).WaitAsync(bound);
        await Assert.ThrowsAsync<UnavailableException>(() => impatient.CreateAsync(Secret("a", "1"), CancellationToken.None)).WaitAsync(bound);
        await Assert.ThrowsAsync<UnavailableException>(() => impatient.DeleteAsync<V1Secret>("a", CancellationToken.None)).WaitAsync(bound);
        await Assert.ThrowsAsync<UnavailableException>(async () =>
        {
            await foreach (var unused in impatient.WatchAsync<V1Secret>(null, "1", CancellationToken.None))
            {
                Assert.Fail("no event can come from a server that does not answer");
            }
        }).WaitAsync(bound);

        emulator.Faults = EmulatorFaults.None;
        Assert.Empty((await impatient.ListAsync<V1Secret>(null, CancellationToken.None)).Items);
    }

    /// <summary>
    /// A watch whose connection died without a reset sends nothing more: it ends after the idle timeout like a stream
    /// the server closed (the informer watches again from its last version) instead of at the end of its window.
    /// </summary>
    [Fact]
    public async Task A_watch_silent_for_the_idle_timeout_ends_and_one_with_traffic_does_not()
    {
        var idle = TimeSpan.FromSeconds(3);
        using var quick = new KubernetesApi(
            new KubernetesClientConfiguration { Host = emulator.BaseAddress.ToString(), AccessToken = EmulatorClient.Token },
            EmulatorClient.Namespace, TimeSpan.FromMinutes(5), watchIdleTimeout: idle);
        var list = await quick.ListAsync<V1Secret>(null, CancellationToken.None);

        emulator.BookmarkInterval = TimeSpan.FromMinutes(10);
        var silent = Stopwatch.StartNew();
        await ConsumeAsync(quick.WatchAsync<V1Secret>(null, list.ResourceVersion, CancellationToken.None)).WaitAsync(TimeSpan.FromSeconds(30));
        // Not before the idle timeout (a timer may fire a few milliseconds early by the stopwatch's clock).
        Assert.True(silent.Elapsed >= idle - TimeSpan.FromMilliseconds(50), $"ended after {silent.Elapsed.TotalSeconds:F3} s");

        // Bookmarks every 300 ms keep a watch alive past several idle timeouts.
        emulator.BookmarkInterval = TimeSpan.FromMilliseconds(300);
        using var stop = new CancellationTokenSource(3 * idle);
        var bookmarks = 0;
        try
        {
            await foreach (var change in quick.WatchAsync<V1Secret>(null, list.ResourceVersion, stop.Token))
            {
                bookmarks += change.Type == WatchEventType.Bookmark ? 1 : 0;
            }
            Assert.Fail($"the watch ended by itself after {bookmarks} bookmarks");
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
        Assert.True(bookmarks >= 10, $"{bookmarks} bookmarks");
    }

    private static async Task ConsumeAsync<T>(IAsyncEnumerable<T> changes)
    {
        await foreach (var change in changes)
        {
            Assert.Fail($"nothing should arrive, got {change}");
        }
    }

    [Fact]
    public async Task A_rotated_service_account_token_is_used_from_the_next_request()
    {
        var directory = Directory.CreateTempSubdirectory("sa-").FullName;
        var tokenFile = Path.Combine(directory, "token");
        await File.WriteAllTextAsync(tokenFile, "first\n");
        using var rotating = new KubernetesApi(
            new KubernetesClientConfiguration { Host = emulator.BaseAddress.ToString(), TokenProvider = new ServiceAccountToken(tokenFile) },
            EmulatorClient.Namespace, TimeSpan.FromSeconds(5));
        emulator.AcceptedTokens = new HashSet<string> { "first" };
        await rotating.ListAsync<V1Secret>(null, CancellationToken.None);

        await File.WriteAllTextAsync(tokenFile, "second\n");
        File.SetLastWriteTimeUtc(tokenFile, DateTime.UtcNow.AddSeconds(5));
        emulator.AcceptedTokens = new HashSet<string> { "second" };

        await rotating.ListAsync<V1Secret>(null, CancellationToken.None);
        Directory.Delete(directory, recursive: true);
    }

    [Fact]
    public async Task A_token_rewritten_within_the_same_timestamp_is_picked_up_after_a_401()
    {
        var directory = Directory.CreateTempSubdirectory("sa-").FullName;
        var tokenFile = Path.Combine(directory, "token");
        await File.WriteAllTextAsync(tokenFile, "first");
        var stamp = File.GetLastWriteTimeUtc(tokenFile);
        using var rotating = new KubernetesApi(
            new KubernetesClientConfiguration { Host = emulator.BaseAddress.ToString(), TokenProvider = new ServiceAccountToken(tokenFile) },
            EmulatorClient.Namespace, TimeSpan.FromSeconds(5));
        await rotating.ListAsync<V1Secret>(null, CancellationToken.None);

        await File.WriteAllTextAsync(tokenFile, "second");
        File.SetLastWriteTimeUtc(tokenFile, stamp);
        emulator.AcceptedTokens = new HashSet<string> { "second" };

        await rotating.ListAsync<V1Secret>(null, CancellationToken.None);
        Directory.Delete(directory, recursive: true);
    }

    [Fact]
    public async Task A_kubeconfig_current_context_gives_the_server_the_token_and_the_namespace()
    {
        var directory = Directory.CreateTempSubdirectory("kubeconfig-").FullName;
        emulator.AcceptedTokens = new HashSet<string> { "from-kubeconfig" };
        var configuration = KubernetesConnection.Configure(EmulatorClient.WriteKubeconfig(emulator, directory, "from-kubeconfig"));
        using var fromFile = new KubernetesApi(configuration, KubernetesConnection.Namespace(null, configuration), TimeSpan.FromSeconds(5));

        await fromFile.CreateAsync(Secret("via-kubeconfig", "1"), CancellationToken.None);

        Assert.Equal(EmulatorClient.Namespace, fromFile.Namespace);
        Assert.NotNull(emulator.Find(EmulatorClient.Secrets, "via-kubeconfig"));
        Directory.Delete(directory, recursive: true);
    }

    [Fact]
    public async Task Custom_resources_round_trip_in_camel_case_without_nulls()
    {
        await api.CreateAsync(new SigningKeyRotation { Metadata = new V1ObjectMeta { Name = "keys" }, Spec = new SigningKeyRotationSpec { SecretName = "platform-keyset" } }, CancellationToken.None);

        var stored = emulator.Find(EmulatorClient.Rotations, "keys")!;

        Assert.Equal("platform.dev/v1alpha1", stored["apiVersion"]!.GetValue<string>());
        Assert.Equal("platform-keyset", stored["spec"]!["secretName"]!.GetValue<string>());
        Assert.False(stored["spec"]!.AsObject().ContainsKey("rotateNow"));
        Assert.False(stored.ContainsKey("status"));
        _ = JsonNode.Parse(stored.ToJsonString());
    }
}
