using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Platform.Operator.Tests.Emulator;

/// <summary>
/// An in-process Kubernetes API server for the REST paths the operator and the charts' lookups use (namespaced
/// collections, and StorageClasses outside any namespace), on Kestrel, with the semantics
/// the operator relies on: resourceVersion (one global counter) and metadata.generation (bumped when anything
/// but metadata and status changes; absent on HorizontalPodAutoscalers, whose generation a real API server tracks
/// only behind the HPAGeneration feature gate, alpha in Kubernetes 1.37), 409 on a stale resourceVersion or an existing name, 404, label selectors,
/// field selectors on metadata.name and metadata.namespace (<see cref="FieldSelector"/>; others answer 400),
/// status subresources (every collection but secrets, leases and events), owner references with cascading
/// delete, JSON merge patch, and watches with bookmarks, resume and 410 for a compacted version.
/// Server-side apply is simplified: the body must be JSON (which is YAML); the applied configuration is
/// merged onto the live object like a merge patch, after removing the fields the same field manager applied
/// last time and omits now; conflicts between managers are not modelled (every apply is forced).
/// An update that changes nothing keeps the resourceVersion and emits no event, as Kubernetes does.
/// Fault injection (<see cref="Faults"/>): errors before any effect, latency, and watch streams cut short.
/// Optionally, like a real cluster: custom resources served only once their CRD is installed
/// (<see cref="InstallCustomResourceDefinition"/>), discovery for clients that map kinds to resources (<see cref="Discovery"/>), and RBAC enforced (<see cref="Authorizer"/>) with 403 on
/// any verb a Role does not grant, including the create check of an apply that creates and the
/// OwnerReferencesPermissionEnforcement checks (delete on an existing object whose owner references change, update on
/// the owner's finalizers for blockOwnerDeletion); a list or watch is named, for a rule's
/// resourceNames, by its field selector's metadata.name only (<see cref="ResourceRequest.Collection"/>).
/// </summary>
public sealed class ApiServerEmulator : IAsyncDisposable
{
    private static readonly HashSet<string> WithoutStatusSubresource = ["secrets", "leases", "events"];

    private readonly Lock gate = new();
    private readonly Dictionary<string, SortedDictionary<string, JsonObject>> collections = new(StringComparer.Ordinal);
    private readonly Dictionary<string, HashSet<string>> appliedPaths = new(StringComparer.Ordinal);
    private readonly List<Change> history = [];
    private readonly List<Watcher> watchers = [];
    private readonly List<Write> writes = [];
    private readonly List<Denial> denials = [];
    private readonly List<AdmissionPolicies.Refusal> refusals = [];
    private readonly List<ServedRequest> requests = [];
    private readonly HashSet<string> usedPermissions = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> customResourceKinds = new(StringComparer.Ordinal);
    private readonly WebApplication app;
    private long revision = 100;
    private long compactedThrough;

    private ApiServerEmulator(WebApplication app) => this.app = app;

    public Uri BaseAddress { get; private set; } = null!;

    public EmulatorFaults Faults { get; set; } = EmulatorFaults.None;

    /// <summary>When set, only these bearer tokens are accepted; others get 401.</summary>
    public IReadOnlySet<string>? AcceptedTokens { get; set; }

    /// <summary>When set, every request needs a bearer token of <see cref="Users"/> (else 401) and its verb granted by these Roles (else 403).</summary>
    public Rbac? Authorizer { get; set; }

    /// <summary>When set, writes that RBAC allowed pass these ValidatingAdmissionPolicies (the user: the bearer token's in <see cref="Users"/>).</summary>
    public AdmissionPolicies? Admission { get; set; }

    /// <summary>Writes the <see cref="Admission"/> policies refused, in order.</summary>
    public IReadOnlyList<AdmissionPolicies.Refusal> Refusals
    {
        get
        {
            lock (gate)
            {
                return refusals.ToList();
            }
        }
    }

    /// <summary>Bearer token → user name, for <see cref="Authorizer"/>.</summary>
    public IReadOnlyDictionary<string, string> Users { get; set; } = new Dictionary<string, string>();

    /// <summary>Requests answered 403, in order.</summary>
    public IReadOnlyList<Denial> Denials
    {
        get
        {
            lock (gate)
            {
                return denials.ToList();
            }
        }
    }

    public sealed record Denial(string User, ResourceRequest Request, string Message);

    /// <summary>Every permission a request needed and was granted, as "group/resource[/subresource]:verb".</summary>
    public IReadOnlySet<string> UsedPermissions
    {
        get
        {
            lock (gate)
            {
                return usedPermissions.ToHashSet(StringComparer.Ordinal);
            }
        }
    }

    public TimeSpan BookmarkInterval { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Changes kept for watches to resume from; older versions answer 410.</summary>
    public int HistoryLimit { get; set; } = 10_000;

    public int RequestCount => Volatile.Read(ref requestCount);

    /// <summary>
    /// Requests routed to a collection, in order, with their Kubernetes verb (get, list, watch, create, update, patch,
    /// delete) and their name as the authorizer sees it: for a list or watch, the one its field selector requires.
    /// </summary>
    public IReadOnlyList<ServedRequest> Requests
    {
        get
        {
            lock (gate)
            {
                return requests.ToList();
            }
        }
    }

    /// <summary>The watch streams open now, as "collection?labelSelector&amp;fieldSelector (events queued)".</summary>
    public IReadOnlyList<string> OpenWatches
    {
        get
        {
            lock (gate)
            {
                return watchers.Select(w => $"{w.Collection}?{w.Selector}&{w.FieldSelector} ({w.Lines.Reader.Count} queued)").ToList();
            }
        }
    }

    public sealed record ServedRequest(string Verb, string Collection, string? Name, string? Subresource);

    private int requestCount;

    public static async Task<ApiServerEmulator> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var emulator = new ApiServerEmulator(app);
        app.Map("/{**path}", emulator.HandleAsync);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        emulator.BaseAddress = new Uri(address);
        return emulator;
    }

    public async ValueTask DisposeAsync()
    {
        lock (gate)
        {
            foreach (var watcher in watchers)
            {
                watcher.Lines.Writer.TryComplete();
            }
        }
        await app.StopAsync();
        await app.DisposeAsync();
    }

    public sealed record Change(long Revision, string Collection, string Type, JsonObject Snapshot);

    /// <summary>An effective change, in order: Verb is ADDED, MODIFIED or DELETED.</summary>
    public sealed record Write(string Verb, string Collection, string Name, JsonObject Snapshot);

    public IReadOnlyList<Write> Writes
    {
        get
        {
            lock (gate)
            {
                return writes.ToList();
            }
        }
    }

    /// <summary>Collection keys look like "api/v1/namespaces/ns/secrets" or "apis/autoscaling/v2/namespaces/ns/horizontalpodautoscalers"; a cluster-scoped one's like "apis/storage.k8s.io/v1/storageclasses".</summary>
    public JsonObject? Find(string collection, string name)
    {
        lock (gate)
        {
            return collections.GetValueOrDefault(collection)?.GetValueOrDefault(name)?.DeepClone().AsObject();
        }
    }

    public IReadOnlyList<JsonObject> List(string collection)
    {
        lock (gate)
        {
            return collections.GetValueOrDefault(collection)?.Values.Select(o => o.DeepClone().AsObject()).ToList() ?? [];
        }
    }

    /// <summary>Creates or replaces an object as a user would (no faults): tests seed and tamper with this.</summary>
    public JsonObject Put(string collection, JsonObject resource)
    {
        lock (gate)
        {
            var name = resource["metadata"]!["name"]!.GetValue<string>();
            var existing = collections.GetValueOrDefault(collection)?.GetValueOrDefault(name);
            return existing is null ? Create(collection, resource) : Update(collection, existing, resource, keepStatus: false, keepSpec: false)!;
        }
    }

    public bool Remove(string collection, string name)
    {
        lock (gate)
        {
            return Delete(collection, name);
        }
    }

    /// <summary>Serves the CRD's resources from now on; once one CRD is installed, other custom resources answer 404.</summary>
    public void InstallCustomResourceDefinition(JsonObject crd)
    {
        var spec = crd["spec"]!;
        var group = spec["group"]!.GetValue<string>();
        var plural = spec["names"]!["plural"]!.GetValue<string>();
        var kind = spec["names"]!["kind"]!.GetValue<string>();
        lock (gate)
        {
            foreach (var version in spec["versions"]!.AsArray().Where(v => v!["served"]?.GetValue<bool>() != false))
            {
                customResourceKinds[$"{group}/{version!["name"]!.GetValue<string>()}/{plural}"] = kind;
            }
        }
    }

    /// <summary>Forgets the change history: every watch resuming from an older version gets 410.</summary>
    public void Compact()
    {
        lock (gate)
        {
            compactedThrough = revision;
            history.Clear();
        }
    }

    /// <summary>Ends every open watch stream, as an API server restart would.</summary>
    public void DropWatches()
    {
        lock (gate)
        {
            foreach (var watcher in watchers)
            {
                watcher.Lines.Writer.TryComplete();
            }
        }
    }

    private async Task HandleAsync(HttpContext http)
    {
        Interlocked.Increment(ref requestCount);
        var request = http.Request;
        if (AcceptedTokens is { } accepted && !(request.Headers.Authorization.ToString() is { } header && header.StartsWith("Bearer ", StringComparison.Ordinal) && accepted.Contains(header[7..])))
        {
            await StatusAsync(http, 401, "Unauthorized", "Unauthorized");
            return;
        }
        string? user = null;
        if (Authorizer is not null && !(request.Headers.Authorization.ToString() is { } bearer && bearer.StartsWith("Bearer ", StringComparison.Ordinal) && Users.TryGetValue(bearer[7..], out user)))
        {
            await StatusAsync(http, 401, "Unauthorized", "Unauthorized");
            return;
        }
        // Discovery lives outside any namespace; every served resource path is under one.
        if (HttpMethods.IsGet(request.Method) && request.Path.Value is { } path && !path.Contains("/namespaces/", StringComparison.Ordinal)
            && DiscoveryDocument(path) is { } document)
        {
            // Every authenticated user may read discovery (system:discovery).
            http.Response.ContentType = "application/json";
            await http.Response.WriteAsync(document.ToJsonString(), http.RequestAborted);
            return;
        }
        var faults = Faults;
        if (faults.Latency > TimeSpan.Zero)
        {
            await Task.Delay(faults.Latency, http.RequestAborted);
        }
        var isWrite = !HttpMethods.IsGet(request.Method);
        if (faults.ErrorRate > 0 && Random.Shared.NextDouble() < faults.ErrorRate)
        {
            if (isWrite && Random.Shared.Next(2) == 0)
            {
                await StatusAsync(http, 409, "Conflict", "injected fault: conflict");
            }
            else
            {
                await StatusAsync(http, 500, "InternalError", "injected fault: internal error");
            }
            return;
        }
        if (!TryRoute(request.Path.Value ?? "", out var collection, out var name, out var subresource) || !Served(collection))
        {
            await StatusAsync(http, 404, "NotFound", $"the server could not find the requested resource {request.Path}");
            return;
        }
        var isWatch = name is null && HttpMethods.IsGet(request.Method) && request.Query["watch"] is var watch && (watch == "true" || watch == "1");
        var fieldSelector = name is null && HttpMethods.IsGet(request.Method) ? request.Query["fieldSelector"].ToString() : "";
        lock (gate)
        {
            requests.Add(new ServedRequest(VerbOf(request, name, isWatch), collection, name ?? FieldSelector.RequiredName(fieldSelector), subresource));
        }
        var body = isWrite && !HttpMethods.IsDelete(request.Method) ? await ReadBodyAsync(request) : null;
        if (isWrite && !HttpMethods.IsDelete(request.Method) && body is null)
        {
            await StatusAsync(http, 400, "BadRequest", "the body must be a JSON object");
            return;
        }
        if (user is not null && Deny(user, request, collection, name, subresource, isWatch, fieldSelector, body) is { } denial)
        {
            lock (gate)
            {
                denials.Add(denial);
            }
            await StatusAsync(http, 403, "Forbidden", denial.Message);
            return;
        }
        if (isWrite && Admission is { } admission && Admit(admission, request, collection, name, subresource, user, body) is { } refusal)
        {
            lock (gate)
            {
                refusals.Add(refusal);
            }
            await StatusAsync(http, refusal.Code, refusal.Reason, refusal.Message);
            return;
        }
        if (FieldSelector.Problem(fieldSelector) is { } badSelector)
        {
            await StatusAsync(http, 400, "BadRequest", badSelector);
            return;
        }
        if (isWatch)
        {
            await WatchAsync(http, collection, faults);
            return;
        }
        var (status, result) = Execute(request, collection, name, subresource, body);
        http.Response.StatusCode = status;
        http.Response.ContentType = "application/json";
        await http.Response.WriteAsync(result.ToJsonString(), http.RequestAborted);
    }

    /// <summary>
    /// The verb on the resource; for an apply that creates, also create; for a change of an existing object's owner
    /// references, delete on the object, and for one that newly sets blockOwnerDeletion, update on the owner's finalizers
    /// (OwnerReferencesPermissionEnforcement, as OpenShift and many clusters enable it).
    /// </summary>
    private Denial? Deny(string user, HttpRequest request, string collection, string? name, string? subresource, bool isWatch, string fieldSelector, JsonObject? body)
    {
        var verb = VerbOf(request, name, isWatch);
        var group = GroupOf(collection);
        var plural = Plural(collection);
        var @namespace = NamespaceOf(collection);
        var resourceRequest = verb is "list" or "watch"
            ? ResourceRequest.Collection(verb, group, plural, fieldSelector, @namespace)
            : new ResourceRequest(verb, group, plural, subresource, name, @namespace);
        if (!Allows(user, resourceRequest))
        {
            return new Denial(user, resourceRequest, Rbac.Forbidden(user, resourceRequest));
        }
        JsonObject? existing;
        lock (gate)
        {
            existing = name is null ? null : collections.GetValueOrDefault(collection)?.GetValueOrDefault(name);
        }
        var creating = verb == "create" || (verb == "patch" && existing is null && (request.ContentType ?? "").StartsWith("application/apply-patch+yaml", StringComparison.Ordinal));
        var create = resourceRequest with { Verb = "create" };
        if (creating && !Allows(user, create))
        {
            return new Denial(user, create, Rbac.Forbidden(user, create));
        }
        // Owner references changed on an existing object (a different list on an update, a patch that names them and
        // differs): Kubernetes asks for delete on the object itself, since an owner's deletion would delete it. Not on
        // a create: whoever creates an object could as well never have created it.
        var ownersNow = existing?["metadata"]?["ownerReferences"] as JsonArray ?? [];
        var ownersAsked = body?["metadata"]?["ownerReferences"] as JsonArray;
        var changesOwners = !creating && (verb == "update" ? !JsonNode.DeepEquals(ownersAsked ?? [], ownersNow)
            : verb == "patch" && ownersAsked is not null && !JsonNode.DeepEquals(ownersAsked, ownersNow));
        var delete = new ResourceRequest("delete", group, plural, null, name, @namespace);
        if (changesOwners && !Allows(user, delete))
        {
            return new Denial(user, delete, "cannot set an ownerRef on a resource you can't delete: " + Rbac.Forbidden(user, delete));
        }
        var alreadyBlocking = ownersNow.Where(o => o?["blockOwnerDeletion"]?.GetValue<bool>() == true)
            .Select(o => o!["uid"]?.GetValue<string>()).ToHashSet();
        foreach (var owner in (body?["metadata"]?["ownerReferences"] as JsonArray ?? []).Where(o => o?["blockOwnerDeletion"]?.GetValue<bool>() == true))
        {
            if (alreadyBlocking.Contains(owner!["uid"]?.GetValue<string>()))
            {
                continue;
            }
            var apiVersion = owner["apiVersion"]!.GetValue<string>();
            var ownerGroup = apiVersion.Contains('/', StringComparison.Ordinal) ? apiVersion[..apiVersion.IndexOf('/', StringComparison.Ordinal)] : "";
            var kind = owner["kind"]!.GetValue<string>();
            string ownerPlural;
            lock (gate)
            {
                ownerPlural = customResourceKinds.FirstOrDefault(c => c.Value == kind && c.Key.StartsWith(ownerGroup + "/", StringComparison.Ordinal)).Key?.Split('/')[^1] ?? kind.ToLowerInvariant() + "s";
            }
            var finalizers = new ResourceRequest("update", ownerGroup, ownerPlural, "finalizers", owner["name"]!.GetValue<string>(), @namespace);
            if (!Allows(user, finalizers))
            {
                return new Denial(user, finalizers, "cannot set blockOwnerDeletion if an ownerReference refers to a resource you can't set finalizers on: " + Rbac.Forbidden(user, finalizers));
            }
        }
        return null;
    }

    /// <summary>The validating admission of a write that RBAC allowed: its operation and the object it would store.</summary>
    private AdmissionPolicies.Refusal? Admit(AdmissionPolicies admission, HttpRequest request, string collection, string? name, string? subresource, string? user, JsonObject? body)
    {
        JsonObject? existing;
        lock (gate)
        {
            existing = name is null ? null : collections.GetValueOrDefault(collection)?.GetValueOrDefault(name)?.DeepClone().AsObject();
        }
        var applyCreates = HttpMethods.IsPatch(request.Method) && existing is null
            && (request.ContentType ?? "").StartsWith("application/apply-patch+yaml", StringComparison.Ordinal);
        var (operation, subject) = request.Method switch
        {
            _ when HttpMethods.IsPost(request.Method) || applyCreates => ("CREATE", body),
            _ when HttpMethods.IsDelete(request.Method) => ("DELETE", null),
            _ when HttpMethods.IsPut(request.Method) => ("UPDATE", body),
            _ => ("UPDATE", (JsonObject?)null),
        };
        if (user is null && request.Headers.Authorization.ToString() is { } header && header.StartsWith("Bearer ", StringComparison.Ordinal))
        {
            Users.TryGetValue(header[7..], out user);
        }
        var version = collection.Split('/')[GroupOf(collection) == "" ? 1 : 2];
        return admission.Check(operation, GroupOf(collection), version, Plural(collection), subresource, NamespaceOf(collection),
            name ?? body?["metadata"]?["name"]?.GetValue<string>(), user ?? "", subject, existing);
    }

    private static string VerbOf(HttpRequest request, string? name, bool isWatch) => request.Method switch
    {
        _ when HttpMethods.IsGet(request.Method) => name is not null ? "get" : isWatch ? "watch" : "list",
        _ when HttpMethods.IsPost(request.Method) => "create",
        _ when HttpMethods.IsPut(request.Method) => "update",
        _ when HttpMethods.IsPatch(request.Method) => "patch",
        _ when HttpMethods.IsDelete(request.Method) => "delete",
        _ => request.Method.ToLowerInvariant(),
    };

    private bool Allows(string user, ResourceRequest request)
    {
        if (!Authorizer!.Allows(user, request))
        {
            return false;
        }
        lock (gate)
        {
            usedPermissions.Add($"{request.ApiGroup}/{request.QualifiedResource}:{request.Verb}");
        }
        return true;
    }

    private bool Served(string collection)
    {
        var group = GroupOf(collection);
        lock (gate)
        {
            return customResourceKinds.Count == 0 || Discovery.BuiltInGroups.Contains(group)
                || customResourceKinds.ContainsKey($"{group}/{collection.Split('/')[2]}/{Plural(collection)}");
        }
    }

    private JsonObject? DiscoveryDocument(string path)
    {
        lock (gate)
        {
            return Discovery.Document(path, customResourceKinds.Select(c => c.Key.Split('/') is [var group, var version, var plural] ? (group, version, plural, c.Value) : default).ToList());
        }
    }

    /// <summary>"" for api/v1/…, G for apis/G/V/….</summary>
    private static string GroupOf(string collection) => collection.StartsWith("apis/", StringComparison.Ordinal) ? collection.Split('/')[1] : "";

    private (int Status, JsonObject Body) Execute(HttpRequest request, string collection, string? name, string? subresource, JsonObject? body)
    {
        lock (gate)
        {
            var items = collections.GetValueOrDefault(collection);
            if (name is null)
            {
                if (HttpMethods.IsGet(request.Method))
                {
                    var selector = request.Query["labelSelector"].ToString();
                    var fieldSelector = request.Query["fieldSelector"].ToString();
                    var list = new JsonArray(items?.Values.Where(o => LabelSelector.Matches(selector, o) && FieldSelector.Matches(fieldSelector, o))
                        .Select(o => (JsonNode)o.DeepClone()).ToArray() ?? []);
                    return (200, new JsonObject { ["kind"] = "List", ["apiVersion"] = "v1", ["metadata"] = new JsonObject { ["resourceVersion"] = Rv(revision) }, ["items"] = list });
                }
                if (HttpMethods.IsPost(request.Method))
                {
                    var newName = body!["metadata"]?["name"]?.GetValue<string>();
                    if (string.IsNullOrEmpty(newName))
                    {
                        return Status(422, "Invalid", "metadata.name: Required value");
                    }
                    if (items?.ContainsKey(newName) == true)
                    {
                        return Status(409, "AlreadyExists", $"{Plural(collection)} \"{newName}\" already exists");
                    }
                    return (201, Create(collection, body).DeepClone().AsObject());
                }
                return Status(405, "MethodNotAllowed", "the server does not allow this method on the requested resource");
            }

            var existing = items?.GetValueOrDefault(name);
            var isPatch = HttpMethods.IsPatch(request.Method);
            var contentType = request.ContentType ?? "";
            if (isPatch && contentType.StartsWith("application/apply-patch+yaml", StringComparison.Ordinal))
            {
                return Apply(request, collection, name, existing, body!);
            }
            if (existing is null)
            {
                return Status(404, "NotFound", $"{Plural(collection)} \"{name}\" not found");
            }
            if (HttpMethods.IsGet(request.Method))
            {
                return (200, existing.DeepClone().AsObject());
            }
            if (HttpMethods.IsDelete(request.Method))
            {
                Delete(collection, name);
                return (200, new JsonObject { ["kind"] = "Status", ["apiVersion"] = "v1", ["status"] = "Success", ["code"] = 200 });
            }
            var statusOnly = subresource == "status";
            var hasStatus = !WithoutStatusSubresource.Contains(Plural(collection));
            if (HttpMethods.IsPut(request.Method))
            {
                if (body!["metadata"]?["resourceVersion"]?.GetValue<string>() is { Length: > 0 } expected && expected != existing["metadata"]!["resourceVersion"]!.GetValue<string>())
                {
                    return Status(409, "Conflict", $"Operation cannot be fulfilled on {Plural(collection)} \"{name}\": the object has been modified; please apply your changes to the latest version and try again");
                }
                return (200, Update(collection, existing, body, keepStatus: hasStatus && !statusOnly, keepSpec: statusOnly)!.DeepClone().AsObject());
            }
            if (isPatch && contentType.StartsWith("application/merge-patch+json", StringComparison.Ordinal))
            {
                var patched = JsonMerge.MergePatch(existing, body)!.AsObject();
                return (200, Update(collection, existing, patched, keepStatus: hasStatus && !statusOnly, keepSpec: statusOnly)!.DeepClone().AsObject());
            }
            return Status(415, "UnsupportedMediaType", $"the emulator does not support {contentType}");
        }
    }

    private (int, JsonObject) Apply(HttpRequest request, string collection, string name, JsonObject? existing, JsonObject applied)
    {
        var manager = request.Query["fieldManager"].ToString();
        if (manager.Length == 0)
        {
            return Status(400, "BadRequest", "PATCH with apply requires fieldManager");
        }
        applied.Remove("status");
        var key = $"{collection}/{name}/{manager}";
        var paths = JsonMerge.LeafPaths(applied);
        paths.RemoveWhere(p => p.StartsWith("/metadata/resourceVersion", StringComparison.Ordinal));
        if (existing is null)
        {
            appliedPaths[key] = paths;
            return (201, Create(collection, applied).DeepClone().AsObject());
        }
        var next = existing.DeepClone().AsObject();
        foreach (var dropped in appliedPaths.GetValueOrDefault(key, []).Except(paths))
        {
            JsonMerge.RemovePath(next, dropped);
        }
        applied["metadata"]!.AsObject().Remove("resourceVersion");
        next = JsonMerge.MergePatch(next, applied)!.AsObject();
        appliedPaths[key] = paths;
        return (200, Update(collection, existing, next, keepStatus: !WithoutStatusSubresource.Contains(Plural(collection)), keepSpec: false)!.DeepClone().AsObject());
    }

    private static bool TracksGeneration(string collection) => !collection.EndsWith("/horizontalpodautoscalers", StringComparison.Ordinal);

    private JsonObject Create(string collection, JsonObject body)
    {
        var resource = body.DeepClone().AsObject();
        var metadata = (resource["metadata"] ??= new JsonObject()).AsObject();
        metadata["uid"] = Guid.NewGuid().ToString();
        if (NamespaceOf(collection) is { Length: > 0 } @namespace)
        {
            metadata["namespace"] = @namespace;
        }
        metadata["creationTimestamp"] = DateTimeOffset.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        if (TracksGeneration(collection))
        {
            metadata["generation"] = 1L;
        }
        metadata["resourceVersion"] = Rv(++revision);
        if (!collections.TryGetValue(collection, out var items))
        {
            collections[collection] = items = new SortedDictionary<string, JsonObject>(StringComparer.Ordinal);
        }
        items[metadata["name"]!.GetValue<string>()] = resource;
        Record(collection, "ADDED", resource);
        return resource;
    }

    private JsonObject? Update(string collection, JsonObject existing, JsonObject body, bool keepStatus, bool keepSpec)
    {
        var next = keepSpec ? existing.DeepClone().AsObject() : body.DeepClone().AsObject();
        if (keepSpec)
        {
            next["status"] = body["status"]?.DeepClone();
        }
        else if (keepStatus)
        {
            next["status"] = existing["status"]?.DeepClone();
        }
        var metadata = (next["metadata"] ??= new JsonObject()).AsObject();
        var old = existing["metadata"]!.AsObject();
        foreach (var fixedField in new[] { "uid", "namespace", "creationTimestamp", "name" })
        {
            metadata[fixedField] = old[fixedField]?.DeepClone();
        }
        metadata.Remove("generation");
        if (TracksGeneration(collection))
        {
            metadata["generation"] = old["generation"]!.GetValue<long>() + (Content(next) == Content(existing) ? 0 : 1);
        }
        metadata["resourceVersion"] = old["resourceVersion"]!.DeepClone();
        if (JsonNode.DeepEquals(Normalized(next), Normalized(existing)))
        {
            return existing;
        }
        metadata["resourceVersion"] = Rv(++revision);
        collections[collection][metadata["name"]!.GetValue<string>()] = next;
        Record(collection, "MODIFIED", next);
        return next;
    }

    private bool Delete(string collection, string name)
    {
        if (collections.GetValueOrDefault(collection) is not { } items || !items.Remove(name, out var removed))
        {
            return false;
        }
        revision++;
        var snapshot = removed.DeepClone().AsObject();
        snapshot["metadata"]!["resourceVersion"] = Rv(revision);
        Record(collection, "DELETED", snapshot);
        var uid = removed["metadata"]!["uid"]!.GetValue<string>();
        foreach (var (otherCollection, others) in collections.ToList())
        {
            foreach (var (dependentName, dependent) in others.ToList())
            {
                if (dependent["metadata"]?["ownerReferences"] is JsonArray owners && owners.Any(o => o?["uid"]?.GetValue<string>() == uid))
                {
                    Delete(otherCollection, dependentName);
                }
            }
        }
        return true;
    }

    private void Record(string collection, string type, JsonObject resource)
    {
        var snapshot = resource.DeepClone().AsObject();
        history.Add(new Change(revision, collection, type, snapshot));
        if (history.Count > HistoryLimit)
        {
            compactedThrough = history[0].Revision;
            history.RemoveAt(0);
        }
        writes.Add(new Write(type, collection, snapshot["metadata"]!["name"]!.GetValue<string>(), snapshot));
        foreach (var watcher in watchers.Where(w => w.Collection == collection && w.Matches(snapshot)))
        {
            watcher.Lines.Writer.TryWrite(Event(type, snapshot));
        }
    }

    private async Task WatchAsync(HttpContext http, string collection, EmulatorFaults faults)
    {
        var query = http.Request.Query;
        var selector = query["labelSelector"].ToString();
        var fieldSelector = query["fieldSelector"].ToString();
        var from = query["resourceVersion"].ToString();
        var bookmarks = query["allowWatchBookmarks"] == "true";
        var timeout = int.TryParse(query["timeoutSeconds"], out var seconds) ? TimeSpan.FromSeconds(seconds) : TimeSpan.FromMinutes(30);
        if (faults.WatchLifetime is { } lifetime)
        {
            var cut = TimeSpan.FromMilliseconds(lifetime.TotalMilliseconds * (0.5 + Random.Shared.NextDouble()));
            timeout = cut < timeout ? cut : timeout;
        }
        http.Response.StatusCode = 200;
        http.Response.ContentType = "application/json";
        var watcher = new Watcher(collection, selector, fieldSelector, Channel.CreateUnbounded<string>());
        lock (gate)
        {
            if (from.Length > 0 && from != "0" && long.Parse(from, CultureInfo.InvariantCulture) < compactedThrough)
            {
                watcher.Lines.Writer.TryWrite(new JsonObject
                {
                    ["type"] = "ERROR",
                    ["object"] = new JsonObject { ["kind"] = "Status", ["apiVersion"] = "v1", ["status"] = "Failure", ["reason"] = "Expired", ["code"] = 410, ["message"] = $"too old resource version: {from} ({compactedThrough})" },
                }.ToJsonString());
                watcher.Lines.Writer.TryComplete();
            }
            else
            {
                if (from.Length == 0 || from == "0")
                {
                    foreach (var resource in collections.GetValueOrDefault(collection)?.Values.Where(watcher.Matches) ?? [])
                    {
                        watcher.Lines.Writer.TryWrite(Event("ADDED", resource));
                    }
                }
                else
                {
                    var since = long.Parse(from, CultureInfo.InvariantCulture);
                    foreach (var change in history.Where(c => c.Revision > since && c.Collection == collection && watcher.Matches(c.Snapshot)))
                    {
                        watcher.Lines.Writer.TryWrite(Event(change.Type, change.Snapshot));
                    }
                }
                watchers.Add(watcher);
            }
        }
        using var end = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted);
        end.CancelAfter(timeout);
        try
        {
            // Headers at once, as the API server sends them: a client waits for them before it reads any line.
            await http.Response.StartAsync(end.Token);
            await http.Response.Body.FlushAsync(end.Token);
            var reader = watcher.Lines.Reader;
            while (!end.IsCancellationRequested)
            {
                using var idle = CancellationTokenSource.CreateLinkedTokenSource(end.Token);
                idle.CancelAfter(BookmarkInterval);
                string line;
                try
                {
                    if (!await reader.WaitToReadAsync(idle.Token))
                    {
                        break;
                    }
                    line = await reader.ReadAsync(idle.Token);
                }
                catch (OperationCanceledException) when (!end.IsCancellationRequested)
                {
                    if (!bookmarks)
                    {
                        continue;
                    }
                    string current;
                    lock (gate)
                    {
                        // A bookmark promises every event up to its version was sent: not while one still waits in the queue.
                        if (reader.TryPeek(out _))
                        {
                            continue;
                        }
                        current = Rv(revision);
                    }
                    line = new JsonObject { ["type"] = "BOOKMARK", ["object"] = new JsonObject { ["kind"] = "Bookmark", ["metadata"] = new JsonObject { ["resourceVersion"] = current } } }.ToJsonString();
                }
                await http.Response.WriteAsync(line + "\n", end.Token);
                await http.Response.Body.FlushAsync(end.Token);
            }
        }
        catch (OperationCanceledException)
        {
            // Timeout, a cut, or the client went away: the stream just ends.
        }
        finally
        {
            lock (gate)
            {
                watchers.Remove(watcher);
            }
        }
    }

    private sealed record Watcher(string Collection, string Selector, string FieldSelector, Channel<string> Lines)
    {
        public bool Matches(JsonObject resource) => LabelSelector.Matches(Selector, resource) && Emulator.FieldSelector.Matches(FieldSelector, resource);
    }

    private static string Event(string type, JsonObject resource) => new JsonObject { ["type"] = type, ["object"] = resource.DeepClone() }.ToJsonString();

    /// <summary>
    /// (api/v1 | apis/G/V)/namespaces/NS/PLURAL[/NAME[/status]], or (api/v1 | apis/G/V)/PLURAL[/NAME[/status]] for the
    /// cluster-scoped built-in kinds (<see cref="Discovery.ClusterScoped"/>).
    /// </summary>
    private static bool TryRoute(string path, out string collection, out string? name, out string? subresource)
    {
        var parts = path.Trim('/').Split('/');
        var prefixLength = parts is ["api", ..] ? 2 : parts is ["apis", ..] ? 3 : -1;
        collection = "";
        name = null;
        subresource = null;
        if (prefixLength < 0 || parts.Length <= prefixLength)
        {
            return false;
        }
        var group = prefixLength == 3 ? parts[1] : "";
        var scopeLength = Discovery.ClusterScoped(group, parts[prefixLength - 1], parts[prefixLength]) ? 0 : 2;
        if ((scopeLength == 2 && parts[prefixLength] != "namespaces") || parts.Length < prefixLength + scopeLength + 1 || parts.Length > prefixLength + scopeLength + 3)
        {
            return false;
        }
        var collectionLength = prefixLength + scopeLength + 1;
        if (scopeLength == 2 && Discovery.ClusterScoped(group, parts[prefixLength - 1], parts[collectionLength - 1]))
        {
            return false; // a cluster-scoped kind has no namespaced path
        }
        collection = string.Join('/', parts[..collectionLength]);
        name = parts.Length > collectionLength ? Uri.UnescapeDataString(parts[collectionLength]) : null;
        subresource = parts.Length > collectionLength + 1 ? parts[collectionLength + 1] : null;
        return subresource is null or "status";
    }

    private static async Task<JsonObject?> ReadBodyAsync(HttpRequest request)
    {
        try
        {
            return await JsonNode.ParseAsync(request.Body) as JsonObject;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string Plural(string collection) => collection[(collection.LastIndexOf('/') + 1)..];

    /// <summary>"" for a cluster-scoped collection.</summary>
    private static string NamespaceOf(string collection)
    {
        var parts = collection.Split('/');
        var at = Array.IndexOf(parts, "namespaces");
        return at >= 0 && at + 1 < parts.Length ? parts[at + 1] : "";
    }

    private static string Rv(long value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>What generation tracks: everything but metadata and status.</summary>
    private static string Content(JsonObject resource)
    {
        var copy = resource.DeepClone().AsObject();
        copy.Remove("metadata");
        copy.Remove("status");
        return copy.ToJsonString();
    }

    private static JsonObject Normalized(JsonObject resource)
    {
        var copy = resource.DeepClone().AsObject();
        copy["metadata"]!.AsObject().Remove("resourceVersion");
        return copy;
    }

    private static (int, JsonObject) Status(int code, string reason, string message) =>
        (code, new JsonObject { ["kind"] = "Status", ["apiVersion"] = "v1", ["status"] = "Failure", ["reason"] = reason, ["message"] = message, ["code"] = code });

    private static async Task StatusAsync(HttpContext http, int code, string reason, string message)
    {
        http.Response.StatusCode = code;
        http.Response.ContentType = "application/json";
        await http.Response.WriteAsync(Status(code, reason, message).Item2.ToJsonString(), http.RequestAborted);
    }
}
