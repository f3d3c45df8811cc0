using Platform.Contracts.Keys;

namespace Platform.Operator.Keys;

/// <summary>How often keys rotate, how early the next one is published, how long a retired one stays.</summary>
public sealed record RotationTimings(TimeSpan RotationPeriod, TimeSpan PrePublish, TimeSpan RetireAfter);

/// <summary>
/// What the environment demands of the timings (docs/architecture.md §4.4): a next key must be published longer than a
/// keyset change takes to reach every auth pod and every validator's JWKS cache, and a retired key must stay
/// published longer than the tokens it signed stay valid.
/// </summary>
public sealed record RotationBounds(TimeSpan Propagation, TimeSpan TokenLifetimePlusSkew);

/// <param name="RotateNow">An opaque token; a value not yet handled forces a rotation.</param>
/// <param name="Emergency">Applies to the rotation <paramref name="RotateNow"/> forces: the new key signs at once and every other key is dropped.</param>
public sealed record RotationSpec(string Algorithm, RotationTimings Timings, string? RotateNow, bool Emergency);

/// <summary>
/// What one auth pod says it has loaded (its /internal/keyset): the keyset version and, when it tells, the
/// kids it publishes. A null version means it could not be asked.
/// </summary>
public sealed record AuthPodReport(string Pod, long? LoadedVersion, IReadOnlyCollection<string>? Kids = null)
{
    /// <summary>
    /// Whether the pod has loaded a keyset holding <paramref name="kid"/>: by its kids when it reports them, so
    /// that moving an activation (a new version) does not make every pod lag again; else by the version.
    /// </summary>
    public bool Holds(string kid, long storedVersion) =>
        LoadedVersion is not null && (Kids is not null ? Kids.Contains(kid) : LoadedVersion >= storedVersion);
}

/// <summary>What the last decision remembered (the custom resource's status, or the CLI's previous step).</summary>
public sealed record RotationMemory(string? HandledRotateNow, string? ActiveKid, IReadOnlyList<string> PublishedKids)
{
    public static readonly RotationMemory None = new(null, null, []);
}

public sealed record RotationInput(
    RotationSpec Spec,
    RotationBounds Bounds,
    Keyset? Keyset,
    RotationMemory Memory,
    IReadOnlyList<AuthPodReport> AuthPods,
    DateTimeOffset Now);

public enum KeyEventKind
{
    Published,
    Activated,
    ActivationPostponed,
    Retired,
    KeysetRecreated,
    EmergencyRotation,
}

public sealed record KeyEvent(KeyEventKind Kind, string Message, bool IsWarning);

public sealed record RotationStatus(
    string? ActiveKid,
    string? NextKid,
    DateTimeOffset? LastRotationTime,
    DateTimeOffset? NextRotationTime,
    IReadOnlyList<string> LaggingPods,
    IReadOnlyList<string> PublishedKids,
    string? HandledRotateNow);

/// <param name="Keyset">The keyset to store; the input keyset when nothing changed.</param>
/// <param name="InvalidSpec">Why the spec was refused; nothing else in the outcome changes the world then.</param>
public sealed record RotationOutcome(
    Keyset? Keyset,
    bool KeysetChanged,
    IReadOnlyList<KeyEvent> Events,
    RotationStatus Status,
    DateTimeOffset? RequeueAt,
    string? InvalidSpec);

/// <summary>Makes a new private key; the rotation decides when it activates.</summary>
public delegate KeysetKey KeyFactory(string algorithm, DateTimeOffset createdAt, DateTimeOffset activatesAt);
