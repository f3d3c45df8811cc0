using System.Globalization;
using Platform.Contracts.Keys;

namespace Platform.Operator.Keys;

/// <summary>
/// The whole signing-key lifecycle as one pure function of (spec, keyset, auth pods' reports, now), shared by
/// the SigningKeyRotation controller and the <c>keys</c> CLI. A key is next before its activatesAt, active
/// until its successor activates (its retiresAt), published until its expiresAt, and removed after.
/// Activation is by time, so auth replicas switch together even while nobody runs this function; that is
/// why a key's retiresAt and expiresAt are written when its successor is published, and moved with it.
/// </summary>
public static class KeyRotation
{
    public static RotationOutcome Decide(RotationInput input, KeyFactory createKey)
    {
        var (spec, bounds, keyset, memory, pods, now) = input;
        if (Validate(spec, bounds) is { } invalid)
        {
            return new RotationOutcome(keyset, KeysetChanged: false, [], StatusOf(keyset?.Keys ?? [], spec.Timings, now, [], memory.HandledRotateNow), RequeueAt: null, invalid);
        }

        var timings = spec.Timings;
        var keys = (keyset?.Keys ?? []).OrderBy(k => k.ActivatesAt).ThenBy(k => k.Kid, StringComparer.Ordinal).ToList();
        var original = keys.ToList();
        var events = new List<KeyEvent>();
        var lagging = new List<string>();
        var rotateRequested = spec.RotateNow is not null && spec.RotateNow != memory.HandledRotateNow;

        foreach (var expired in keys.Where(k => k.ExpiresAt <= now).ToList())
        {
            keys.Remove(expired);
            events.Add(new KeyEvent(KeyEventKind.Retired, $"Key {expired.Kid} removed: retired at {Time(expired.RetiresAt)}, published until {Time(expired.ExpiresAt)}.", IsWarning: false));
        }

        if (keys.Count == 0)
        {
            var first = createKey(spec.Algorithm, now, now);
            keys.Add(first);
            var lost = memory.PublishedKids.Where(kid => keyset?.Keys.All(k => k.Kid != kid) ?? true).ToList();
            events.Add(lost.Count > 0
                ? new KeyEvent(KeyEventKind.KeysetRecreated, $"The keyset was missing; created active key {first.Kid}. Lost keys {string.Join(", ", lost)}: tokens they signed are now rejected.", IsWarning: true)
                : new KeyEvent(KeyEventKind.Activated, $"Created the first key {first.Kid}, active now.", IsWarning: false));
        }
        else if (rotateRequested && spec.Emergency)
        {
            var replacement = createKey(spec.Algorithm, now, now);
            var dropped = keys.Select(k => k.Kid).ToList();
            keys.Clear();
            keys.Add(replacement);
            events.Add(new KeyEvent(KeyEventKind.EmergencyRotation, $"Emergency rotation: key {replacement.Kid} active now; dropped {string.Join(", ", dropped)}, so tokens they signed are rejected.", IsWarning: true));
        }
        else
        {
            PublishOrPostpone(keys, keyset!.Version, spec, bounds, pods, now, rotateRequested, events, lagging, createKey);
        }

        var active = Keyset.ActiveAt(keys, now)!;
        if (memory.ActiveKid is not null && memory.ActiveKid != active.Kid && events.All(e => e.Kind is not (KeyEventKind.EmergencyRotation or KeyEventKind.KeysetRecreated)))
        {
            var retiring = keys.Where(k => k.RetiresAt is { } retires && retires <= now && k.ExpiresAt > now).Select(k => $"{k.Kid} (published until {Time(k.ExpiresAt)})");
            events.Add(new KeyEvent(KeyEventKind.Activated, $"Key {active.Kid} signs since {Time(active.ActivatesAt)}; retiring: {string.Join(", ", retiring)}.", IsWarning: false));
        }

        var changed = !keys.SequenceEqual(original);
        var result = changed || keyset is null ? new Keyset((keyset?.Version ?? 0) + 1, keys.OrderBy(k => k.ActivatesAt).ThenBy(k => k.Kid, StringComparer.Ordinal).ToList()) : keyset;
        return new RotationOutcome(result, changed || keyset is null, events, StatusOf(keys, timings, now, lagging, spec.RotateNow), NextTransition(keys, timings, bounds, lagging.Count > 0, now), InvalidSpec: null);
    }

    /// <summary>Why the spec is refused, or null. Refused specs change nothing: a wrong timing must never reject valid tokens.</summary>
    public static string? Validate(RotationSpec spec, RotationBounds bounds)
    {
        var timings = spec.Timings;
        if (!SigningKeyFactory.Algorithms.Contains(spec.Algorithm))
        {
            return $"algorithm {spec.Algorithm} is not one of {string.Join(", ", SigningKeyFactory.Algorithms)}";
        }
        if (timings.PrePublish <= bounds.Propagation)
        {
            return $"prePublish {GoDuration.Format(timings.PrePublish)} must exceed the keyset propagation bound {GoDuration.Format(bounds.Propagation)} (Secret propagation to pods plus the validators' JWKS cache)";
        }
        if (timings.RetireAfter <= bounds.TokenLifetimePlusSkew)
        {
            return $"retireAfter {GoDuration.Format(timings.RetireAfter)} must exceed the access-token lifetime plus clock skew {GoDuration.Format(bounds.TokenLifetimePlusSkew)}";
        }
        if (timings.RotationPeriod <= timings.PrePublish)
        {
            return $"rotationPeriod {GoDuration.Format(timings.RotationPeriod)} must exceed prePublish {GoDuration.Format(timings.PrePublish)}";
        }
        return null;
    }

    /// <summary>
    /// Publishes the next key when its time (or a rotateNow) has come. Near the activation of a pending key,
    /// checks the evidence: while an auth pod has not loaded a keyset holding it, the activation (and the
    /// predecessor's retirement with it) moves later, so that it is always at least a window away.
    /// </summary>
    private static void PublishOrPostpone(List<KeysetKey> keys, long storedVersion, RotationSpec spec, RotationBounds bounds, IReadOnlyList<AuthPodReport> pods,
        DateTimeOffset now, bool rotateRequested, List<KeyEvent> events, List<string> lagging, KeyFactory createKey)
    {
        var timings = spec.Timings;
        var active = Keyset.ActiveAt(keys, now)!;
        var pending = keys.FirstOrDefault(k => k.ActivatesAt > now);
        if (pending is null)
        {
            var due = rotateRequested ? now : active.ActivatesAt + timings.RotationPeriod;
            if (now < due - timings.PrePublish)
            {
                return;
            }
            var activatesAt = Max(due, now + timings.PrePublish);
            var next = createKey(spec.Algorithm, now, activatesAt);
            Replace(keys, active, active with { RetiresAt = activatesAt, ExpiresAt = activatesAt + timings.RetireAfter });
            keys.Add(next);
            events.Add(new KeyEvent(KeyEventKind.Published, $"Published key {next.Kid}; it activates at {Time(activatesAt)}{(rotateRequested ? " (rotateNow)" : "")}.", IsWarning: false));
            return;
        }

        if (now < pending.ActivatesAt - EvidenceWindow(bounds))
        {
            return;
        }
        lagging.AddRange(pods.Where(p => !p.Holds(pending.Kid, storedVersion)).Select(p => p.Pod).Order(StringComparer.Ordinal));
        var postponedTo = now + EvidenceWindow(bounds);
        if (lagging.Count == 0 || postponedTo <= pending.ActivatesAt)
        {
            return;
        }
        Replace(keys, pending, pending with { ActivatesAt = postponedTo });
        foreach (var predecessor in keys.Where(k => k.RetiresAt == pending.ActivatesAt).ToList())
        {
            Replace(keys, predecessor, predecessor with { RetiresAt = postponedTo, ExpiresAt = postponedTo + timings.RetireAfter });
        }
        events.Add(new KeyEvent(KeyEventKind.ActivationPostponed, $"Activation of key {pending.Kid} postponed to {Time(postponedTo)}: auth pods {string.Join(", ", lagging)} have not loaded the keyset that holds it.", IsWarning: true));
    }

    /// <summary>
    /// How long before an activation the pods' evidence is checked, and how far a lagging pod pushes the
    /// activation past now: twice the propagation bound, so a reconcile that runs late by less than one
    /// bound still checks in time, and a lagging pod has a whole bound to catch up before the next check.
    /// </summary>
    private static TimeSpan EvidenceWindow(RotationBounds bounds) => 2 * bounds.Propagation;

    /// <summary>The earliest instant at which the decision can change: the evidence check before an activation, an activation, an expiry, or the next publication.</summary>
    private static DateTimeOffset? NextTransition(List<KeysetKey> keys, RotationTimings timings, RotationBounds bounds, bool podsLag, DateTimeOffset now)
    {
        var candidates = keys.Where(k => k.ExpiresAt > now).Select(k => k.ExpiresAt!.Value).ToList();
        var pending = keys.FirstOrDefault(k => k.ActivatesAt > now);
        if (pending is not null)
        {
            var windowOpens = pending.ActivatesAt - EvidenceWindow(bounds);
            candidates.Add(windowOpens > now ? windowOpens : podsLag ? Min(now + (bounds.Propagation / 2), pending.ActivatesAt) : pending.ActivatesAt);
        }
        else if (Keyset.ActiveAt(keys, now) is { } active)
        {
            candidates.Add(Max(active.ActivatesAt + timings.RotationPeriod - timings.PrePublish, now));
        }
        return candidates.Count == 0 ? null : candidates.Min();
    }

    private static RotationStatus StatusOf(IReadOnlyList<KeysetKey> keys, RotationTimings timings, DateTimeOffset now, IReadOnlyList<string> lagging, string? handledRotateNow)
    {
        var active = Keyset.ActiveAt(keys, now);
        var next = keys.Where(k => k.ActivatesAt > now).OrderBy(k => k.ActivatesAt).FirstOrDefault();
        return new RotationStatus(
            active?.Kid,
            next?.Kid,
            active?.ActivatesAt,
            next?.ActivatesAt ?? active?.ActivatesAt + timings.RotationPeriod,
            lagging,
            keys.Where(k => !(k.ExpiresAt <= now)).Select(k => k.Kid).Order(StringComparer.Ordinal).ToList(),
            handledRotateNow);
    }

    private static void Replace(List<KeysetKey> keys, KeysetKey old, KeysetKey replacement) => keys[keys.IndexOf(old)] = replacement;

    private static DateTimeOffset Max(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;

    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;

    private static string Time(DateTimeOffset? instant) => instant?.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture) ?? "-";
}
