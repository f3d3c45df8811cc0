using System.Text;
using System.Text.Json;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;
using Platform.Contracts.Keys;
using Platform.Operator.Hosting;
using Platform.Operator.Keys;
using Platform.Operator.Kubernetes;
using Platform.Operator.Resources;
using Platform.Operator.Runtime;

namespace Platform.Operator.Controllers;

/// <summary>
/// Reads a SigningKeyRotation and its Secret from its informers, the auth pods' reports, lets <see cref="KeyRotation"/> decide,
/// writes the Secret (conditional on its resourceVersion, so two writers can never both add a key), records
/// Events and updates the status. The rotateNow value it has acted on travels in the Secret with the keyset,
/// so a retry after a failed status write cannot rotate twice.
/// It touches only the Secrets named in Operator:KeysetSecrets, which its Role grants by name: one informer per
/// name (a metadata.name field selector, so even its list and watch name the Secret), and a rotation whose
/// secretName is not among them is refused, never attempted.
/// </summary>
public sealed class SigningKeyRotationController : Controller
{
    public const string HandledRotateNowAnnotation = "platform.dev/handled-rotate-now";

    /// <summary>The reason (conditions and Event) of a refused spec: durations that do not parse or break the timing bounds.</summary>
    public const string InvalidSpec = "InvalidSpec";

    /// <summary>The reason (conditions and Event) of a rotation whose secretName is not in Operator:KeysetSecrets.</summary>
    public const string SecretNotAllowed = "SecretNotAllowed";

    private readonly IKubernetesApi api;
    private readonly OperatorOptions options;
    private readonly IAuthPodProbe probe;
    private readonly EventRecorder events;
    private readonly OperatorMetrics metrics;
    private readonly KeyFactory createKey;
    private readonly Informer<SigningKeyRotation> rotations;
    private readonly IReadOnlyDictionary<string, Informer<V1Secret>> secrets;

    public SigningKeyRotationController(IKubernetesApi api, OperatorOptions options, IAuthPodProbe probe, EventRecorder events, KeyFactory createKey,
        TimeProvider clock, OperatorMetrics metrics, ILogger<SigningKeyRotationController> logger)
        : base("signingkeyrotation", clock, metrics, logger)
    {
        this.api = api;
        this.options = options;
        this.probe = probe;
        this.events = events;
        this.metrics = metrics;
        this.createKey = createKey;
        var resync = TimeSpan.FromSeconds(options.ResyncSeconds);
        rotations = new Informer<SigningKeyRotation>(api, null, resync, OnRotation, clock, logger);
        secrets = options.KeysetSecretNames.ToDictionary(name => name,
            name => new Informer<V1Secret>(api, null, resync, OnSecret, clock, logger, fieldSelector: $"metadata.name={name}"), StringComparer.Ordinal);
    }

    public override IReadOnlyList<Func<(string Name, DateTimeOffset LastContact, bool Synced)>> Watches =>
        [() => (rotations.Name, rotations.LastContact, rotations.HasSynced), .. secrets.Values.Select(s => (Func<(string, DateTimeOffset, bool)>)(() => (s.Name, s.LastContact, s.HasSynced)))];

    protected override bool InformersSynced => rotations.HasSynced && secrets.Values.All(s => s.HasSynced);

    protected override IEnumerable<Task> RunInformers(CancellationToken cancellationToken) =>
        [rotations.RunAsync(cancellationToken), .. secrets.Values.Select(s => s.RunAsync(cancellationToken))];

    /// <summary>Spec changes (a new generation) and list/resync deliveries reconcile; the operator's own status writes do not.</summary>
    private void OnRotation(WatchEventType type, SigningKeyRotation rotation)
    {
        if (type != WatchEventType.Modified || rotation.Status?.ObservedGeneration != rotation.Metadata.Generation)
        {
            Schedule.Add(rotation.Metadata.Name);
        }
    }

    /// <summary>A Secret changed or deleted by anyone else brings back the rotations that name it, to check it.</summary>
    private void OnSecret(WatchEventType type, V1Secret secret)
    {
        foreach (var rotation in rotations.Items.Where(r => r.Spec?.SecretName == secret.Metadata.Name))
        {
            Schedule.Add(rotation.Metadata.Name);
        }
    }

    protected override async Task<DateTimeOffset?> ReconcileAsync(string key, CancellationToken cancellationToken)
    {
        var rotation = await rotations.GetAsync(key, cancellationToken);
        if (rotation is null)
        {
            metrics.NextRotation(key, null);
            return null;
        }
        var now = Clock.GetUtcNow();
        var status = rotation.Status ?? new SigningKeyRotationStatus();
        if (!secrets.TryGetValue(rotation.Spec.SecretName, out var secretInformer))
        {
            return await RefuseAsync(rotation, status, SecretNotAllowed,
                $"spec.secretName \"{rotation.Spec.SecretName}\" is not a Secret this operator may manage: it may read and write only {string.Join(", ", secrets.Keys.Select(n => $"\"{n}\""))} (Operator:KeysetSecrets, the operator chart's keysetSecrets, which its Role grants by name). Name one of those, or add this one to keysetSecrets and upgrade the operator.",
                now, cancellationToken);
        }
        if (SpecOf(rotation.Spec) is not { } spec)
        {
            return await RefuseAsync(rotation, status, InvalidSpec, "durations must look like 90s, 10m or 720h", now, cancellationToken);
        }
        var secret = await SecretAsync(secretInformer, rotation.Spec.SecretName, cancellationToken);
        var keyset = KeysetOf(secret);
        string? handledInSecret = null;
        secret?.Metadata.Annotations?.TryGetValue(HandledRotateNowAnnotation, out handledInSecret);
        var handledRotateNow = handledInSecret ?? status.HandledRotateNow;
        var memory = new RotationMemory(handledRotateNow, status.ActiveKid, status.PublishedKids?.ToList() ?? []);
        var pods = await AuthPodReportsAsync(rotation, cancellationToken);
        var bounds = new RotationBounds(TimeSpan.FromSeconds(options.KeysetPropagationSeconds), TimeSpan.FromSeconds(options.TokenLifetimePlusSkewSeconds));
        var outcome = KeyRotation.Decide(new RotationInput(spec, bounds, keyset, memory, pods, now), createKey);
        if (outcome.InvalidSpec is { } invalid)
        {
            return await RefuseAsync(rotation, status, InvalidSpec, invalid, now, cancellationToken);
        }
        if (outcome.KeysetChanged || handledRotateNow != outcome.Status.HandledRotateNow || OwnedByARotation(secret))
        {
            await WriteSecretAsync(secretInformer, rotation, secret, outcome.Keyset!, outcome.Status.HandledRotateNow, cancellationToken);
        }
        foreach (var keyEvent in outcome.Events)
        {
            if (keyEvent.Kind == KeyEventKind.Activated && memory.ActiveKid is not null)
            {
                metrics.KeyRotated();
            }
            await events.RecordAsync(rotation, "Key" + keyEvent.Kind, keyEvent.Message, keyEvent.IsWarning, cancellationToken);
        }
        await UpdateStatusAsync(rotation, StatusFrom(rotation, status, outcome, now), cancellationToken);
        metrics.NextRotation(key, outcome.Status.NextRotationTime);
        return outcome.RequeueAt;
    }

    private static RotationSpec? SpecOf(SigningKeyRotationSpec spec) =>
        GoDuration.TryParse(spec.RotationPeriod, out var period) && GoDuration.TryParse(spec.PrePublish, out var prePublish) && GoDuration.TryParse(spec.RetireAfter, out var retireAfter)
            ? new RotationSpec(spec.Algorithm, new RotationTimings(period, prePublish, retireAfter), spec.RotateNow, spec.Emergency)
            : null;

    /// <summary>
    /// The Secret from the cache of its informer, which watches that one name, labelled or not: a Secret made by hand
    /// (or before the operator) is adopted. A stale copy costs no harm: the write is conditional on its
    /// resourceVersion, so it fails with a conflict and the reconcile is retried. One the cache lacks is asked for
    /// (a GET of that name): the watch may not have delivered a Secret just made by someone else, and creating over
    /// it would fail with AlreadyExists.
    /// </summary>
    private async Task<V1Secret?> SecretAsync(Informer<V1Secret> informer, string name, CancellationToken cancellationToken) =>
        await informer.GetAsync(name, cancellationToken) ?? await api.FindAsync<V1Secret>(name, cancellationToken);

    /// <summary>A keyset that does not parse counts as missing: the rotation recreates it and its Event names the keys that were lost.</summary>
    private static Keyset? KeysetOf(V1Secret? secret)
    {
        if (secret?.Data?.TryGetValue(KeysetFile.FileName, out var bytes) != true)
        {
            return null;
        }
        try
        {
            return JsonSerializer.Deserialize<Keyset>(bytes!, Keyset.JsonOptions);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private async Task<IReadOnlyList<AuthPodReport>> AuthPodReportsAsync(SigningKeyRotation rotation, CancellationToken cancellationToken)
    {
        var selector = rotation.Spec.AuthPodSelector is { MatchLabels.Count: > 0 } own ? own.ToQuery() : options.AuthPodSelector;
        var pods = await api.ListAsync<V1Pod>(selector, cancellationToken);
        // Only pods in the Service's endpoints sign tokens and serve the JWKS. A pod in CrashLoopBackOff is still in
        // phase Running and answers nothing: counted, it postponed the activation (and rewrote the Secret) for ever.
        // A pod that becomes ready later has the Secret's current version mounted, and the old key stays published.
        var serving = pods.Items.Where(p => p.Status?.Phase == "Running" && p.Metadata.DeletionTimestamp is null && IsReady(p));
        return await Task.WhenAll(serving.Select(p => probe.AskAsync(p, cancellationToken)));
    }

    private static bool IsReady(V1Pod pod) =>
        pod.Status?.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") == true;

    private async Task WriteSecretAsync(Informer<V1Secret> informer, SigningKeyRotation rotation, V1Secret? existing, Keyset keyset, string? handledRotateNow, CancellationToken cancellationToken)
    {
        var data = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(keyset, Keyset.JsonOptions));
        var secret = existing ?? new V1Secret { Metadata = new V1ObjectMeta { Name = rotation.Spec.SecretName }, Type = "Opaque" };
        secret.Data = new Dictionary<string, byte[]> { [KeysetFile.FileName] = data };
        secret.Metadata.Labels ??= new Dictionary<string, string>();
        secret.Metadata.Labels[PlatformGroup.ManagedByLabel] = PlatformGroup.FieldManager;
        secret.Metadata.Annotations ??= new Dictionary<string, string>();
        if (handledRotateNow is not null)
        {
            secret.Metadata.Annotations[HandledRotateNowAnnotation] = handledRotateNow;
        }
        if (OwnedByARotation(secret))
        {
            List<V1OwnerReference> others = [.. secret.Metadata.OwnerReferences!.Where(o => !IsRotation(o))];
            secret.Metadata.OwnerReferences = others.Count > 0 ? others : null;
        }
        informer.Wrote(existing is null ? await api.CreateAsync(secret, cancellationToken) : await api.ReplaceAsync(secret, cancellationToken));
    }

    /// <summary>
    /// Whether the Secret names a SigningKeyRotation as owner, as operators before this one wrote it. The keyset
    /// outlives its rotation: with an owner reference, deleting the rotation (an uninstall and reinstall, a chart
    /// value turned off and on) garbage-collected every key, and every token signed with them failed at once. A
    /// rotation made again adopts the Secret and its keys. Removing the reference is one write, when it is found
    /// (where OwnerReferencesPermissionEnforcement is on, that update needs delete on the Secret: the Role grants it).
    /// </summary>
    private static bool OwnedByARotation(V1Secret? secret) => secret?.Metadata.OwnerReferences?.Any(IsRotation) == true;

    private static bool IsRotation(V1OwnerReference owner) =>
        owner.Kind == SigningKeyRotation.KindName && owner.ApiVersion.StartsWith(PlatformGroup.Name + "/", StringComparison.Ordinal);

    private static SigningKeyRotationStatus StatusFrom(SigningKeyRotation rotation, SigningKeyRotationStatus previous, RotationOutcome outcome, DateTimeOffset now)
    {
        var decided = outcome.Status;
        var generation = rotation.Metadata.Generation;
        var conditions = Conditions.Set(previous.Conditions, "Ready", decided.ActiveKid is not null, decided.ActiveKid is null ? "NoActiveKey" : "KeyActive",
            decided.ActiveKid is null ? "No key signs." : $"Key {decided.ActiveKid} signs.", generation, now);
        conditions = Conditions.Set(conditions, "Progressing", decided.NextKid is not null, decided.NextKid is null ? "Idle" : "NextKeyPublished",
            decided.NextKid is null ? "No rotation in progress." : $"Key {decided.NextKid} activates at {decided.NextRotationTime:O}.", generation, now);
        conditions = Conditions.Set(conditions, "Degraded", decided.LaggingPods.Count > 0, decided.LaggingPods.Count > 0 ? "AuthPodsLagging" : "AsExpected",
            decided.LaggingPods.Count > 0 ? $"Activation waits for auth pods {string.Join(", ", decided.LaggingPods)}." : "Every auth pod has loaded the keyset.", generation, now);
        return new SigningKeyRotationStatus
        {
            ObservedGeneration = generation,
            ActiveKid = decided.ActiveKid,
            NextKid = decided.NextKid,
            LastRotationTime = decided.LastRotationTime,
            NextRotationTime = decided.NextRotationTime,
            HandledRotateNow = decided.HandledRotateNow,
            PublishedKids = decided.PublishedKids.ToList(),
            LaggingPods = decided.LaggingPods.ToList(),
            Conditions = conditions,
        };
    }

    /// <summary>
    /// Changes nothing but the status: Ready false, Degraded true, with <paramref name="reason"/> and why; and, when
    /// that is news (the status changed), a Warning Event, so a resync does not repeat it. No requeue: a spec change
    /// brings the rotation back.
    /// </summary>
    private async Task<DateTimeOffset?> RefuseAsync(SigningKeyRotation rotation, SigningKeyRotationStatus previous, string reason, string why, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var generation = rotation.Metadata.Generation;
        var conditions = Conditions.Set(previous.Conditions, "Ready", false, reason, "The spec is refused: " + why, generation, now);
        conditions = Conditions.Set(conditions, "Progressing", false, reason, "Nothing changes until the spec is fixed.", generation, now);
        conditions = Conditions.Set(conditions, "Degraded", true, reason, why, generation, now);
        var status = new SigningKeyRotationStatus
        {
            ObservedGeneration = generation,
            ActiveKid = previous.ActiveKid,
            NextKid = previous.NextKid,
            LastRotationTime = previous.LastRotationTime,
            NextRotationTime = previous.NextRotationTime,
            HandledRotateNow = previous.HandledRotateNow,
            PublishedKids = previous.PublishedKids,
            LaggingPods = previous.LaggingPods,
            Conditions = conditions,
        };
        if (await UpdateStatusAsync(rotation, status, cancellationToken))
        {
            await events.RecordAsync(rotation, reason, why, warning: true, cancellationToken);
        }
        return null;
    }

    /// <returns>Whether it wrote: false when the status was already this one.</returns>
    private async Task<bool> UpdateStatusAsync(SigningKeyRotation rotation, SigningKeyRotationStatus status, CancellationToken cancellationToken)
    {
        if (KubernetesJson.Serialize(status) == KubernetesJson.Serialize(rotation.Status ?? new SigningKeyRotationStatus()))
        {
            return false;
        }
        rotation.Status = status;
        rotations.Wrote(await api.ReplaceStatusAsync(rotation, cancellationToken));
        return true;
    }
}
