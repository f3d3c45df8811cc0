using System.Text.Json;
using Platform.Contracts.Keys;
using Platform.Operator.Keys;

namespace Platform.Operator.Tests;

/// <summary>The rotation state machine, under a simulated clock: tables of situations and a long run of transitions.</summary>
public sealed class KeyRotationTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly RotationTimings Timings = new(RotationPeriod: TimeSpan.FromHours(24), PrePublish: TimeSpan.FromMinutes(10), RetireAfter: TimeSpan.FromMinutes(20));
    private static readonly RotationBounds Bounds = new(Propagation: TimeSpan.FromMinutes(3), TokenLifetimePlusSkew: TimeSpan.FromSeconds(630));
    private static readonly RotationSpec Spec = new("ES256", Timings, RotateNow: null, Emergency: false);

    private int created;

    private KeysetKey NewKey(string algorithm, DateTimeOffset createdAt, DateTimeOffset activatesAt) =>
        new($"k{++created}", algorithm, createdAt, activatesAt, null, null, JsonSerializer.SerializeToElement(new { kty = "test" }));

    private RotationOutcome Decide(Keyset? keyset, DateTimeOffset now, RotationSpec? spec = null, RotationMemory? memory = null, IReadOnlyList<AuthPodReport>? pods = null) =>
        KeyRotation.Decide(new RotationInput(spec ?? Spec, Bounds, keyset, memory ?? RotationMemory.None, pods ?? [], now), NewKey);

    [Fact]
    public void A_missing_keyset_gets_one_key_active_at_once()
    {
        var outcome = Decide(null, T0);

        var key = Assert.Single(outcome.Keyset!.Keys);
        Assert.Equal(T0, key.ActivatesAt);
        Assert.Equal(1, outcome.Keyset.Version);
        Assert.Equal("k1", outcome.Status.ActiveKid);
        Assert.Equal(T0 + Timings.RotationPeriod - Timings.PrePublish, outcome.RequeueAt);
    }

    [Fact]
    public void The_next_key_is_published_prePublish_before_the_period_ends_and_the_active_key_gets_its_retirement()
    {
        var keyset = Decide(null, T0).Keyset!;
        var publishAt = T0 + Timings.RotationPeriod - Timings.PrePublish;

        Assert.False(Decide(keyset, publishAt - TimeSpan.FromSeconds(1)).KeysetChanged);
        var outcome = Decide(keyset, publishAt);

        Assert.True(outcome.KeysetChanged);
        Assert.Equal(2, outcome.Keyset!.Version);
        var (active, next) = (outcome.Keyset.Keys[0], outcome.Keyset.Keys[1]);
        Assert.Equal(T0 + Timings.RotationPeriod, next.ActivatesAt);
        Assert.Equal(next.ActivatesAt, active.RetiresAt);
        Assert.Equal(next.ActivatesAt + Timings.RetireAfter, active.ExpiresAt);
        Assert.Equal(KeyEventKind.Published, Assert.Single(outcome.Events).Kind);
        Assert.Equal("k2", outcome.Status.NextKid);
        Assert.Equal(next.ActivatesAt - (2 * Bounds.Propagation), outcome.RequeueAt);
    }

    [Fact]
    public void Activation_is_reported_once_the_time_has_come_and_the_retired_key_is_removed_after_retireAfter()
    {
        var keyset = Decide(null, T0).Keyset!;
        var activation = T0 + Timings.RotationPeriod;
        keyset = Decide(keyset, activation - Timings.PrePublish).Keyset!;
        var memory = new RotationMemory(null, "k1", ["k1", "k2"]);

        var atActivation = Decide(keyset, activation, memory: memory);
        Assert.Equal("k2", atActivation.Status.ActiveKid);
        Assert.Contains(atActivation.Events, e => e.Kind == KeyEventKind.Activated && e.Message.Contains("k1", StringComparison.Ordinal));
        Assert.False(atActivation.KeysetChanged);
        Assert.Equal(activation + Timings.RetireAfter, atActivation.RequeueAt);

        var justBefore = Decide(keyset, activation + Timings.RetireAfter - TimeSpan.FromSeconds(1), memory: memory with { ActiveKid = "k2" });
        Assert.Equal(2, justBefore.Keyset!.Keys.Count);
        var removal = Decide(keyset, activation + Timings.RetireAfter, memory: memory with { ActiveKid = "k2" });
        Assert.Equal("k2", Assert.Single(removal.Keyset!.Keys).Kid);
        Assert.Equal(KeyEventKind.Retired, Assert.Single(removal.Events).Kind);
    }

    [Fact]
    public void RotateNow_publishes_a_key_that_activates_after_prePublish_and_is_acted_on_once()
    {
        var keyset = Decide(null, T0).Keyset!;
        var now = T0 + TimeSpan.FromHours(1);
        var spec = Spec with { RotateNow = "please" };

        var outcome = Decide(keyset, now, spec);

        Assert.Equal(now + Timings.PrePublish, outcome.Keyset!.Keys[1].ActivatesAt);
        Assert.Equal("please", outcome.Status.HandledRotateNow);
        var again = Decide(outcome.Keyset, now + TimeSpan.FromMinutes(1), spec, new RotationMemory("please", "k1", ["k1", "k2"]));
        Assert.False(again.KeysetChanged);
        Assert.Equal(2, again.Keyset!.Keys.Count);
    }

    [Fact]
    public void An_emergency_rotation_activates_a_new_key_at_once_and_drops_every_other()
    {
        var keyset = Decide(null, T0).Keyset!;
        keyset = Decide(keyset, T0 + Timings.RotationPeriod - Timings.PrePublish).Keyset!;
        var now = T0 + Timings.RotationPeriod - TimeSpan.FromMinutes(5);

        var outcome = Decide(keyset, now, Spec with { RotateNow = "compromised", Emergency = true }, new RotationMemory(null, "k1", ["k1", "k2"]));

        var key = Assert.Single(outcome.Keyset!.Keys);
        Assert.Equal("k3", key.Kid);
        Assert.Equal(now, key.ActivatesAt);
        var emergency = Assert.Single(outcome.Events);
        Assert.Equal(KeyEventKind.EmergencyRotation, emergency.Kind);
        Assert.True(emergency.IsWarning);
        Assert.Contains("k1, k2", emergency.Message, StringComparison.Ordinal);
    }

    public static TheoryData<string, RotationSpec, string> InvalidSpecs => new()
    {
        { "prePublish within propagation", Spec with { Timings = Timings with { PrePublish = TimeSpan.FromMinutes(3) } }, "prePublish" },
        { "retireAfter within token lifetime", Spec with { Timings = Timings with { RetireAfter = TimeSpan.FromMinutes(10) } }, "retireAfter" },
        { "period not above prePublish", Spec with { Timings = Timings with { RotationPeriod = TimeSpan.FromMinutes(10) } }, "rotationPeriod" },
        { "unknown algorithm", Spec with { Algorithm = "HS256" }, "algorithm" },
    };

    [Theory]
    [MemberData(nameof(InvalidSpecs))]
    public void An_invalid_spec_is_refused_and_changes_nothing(string situation, RotationSpec spec, string named)
    {
        var keyset = Decide(null, T0).Keyset!;

        var outcome = Decide(keyset, T0 + Timings.RotationPeriod, spec with { RotateNow = "x" });

        Assert.NotNull(outcome.InvalidSpec);
        Assert.Contains(named, outcome.InvalidSpec, StringComparison.Ordinal);
        Assert.False(outcome.KeysetChanged, situation);
        Assert.Same(keyset, outcome.Keyset);
        Assert.Empty(outcome.Events);
        Assert.Null(outcome.RequeueAt);
    }

    [Fact]
    public void A_keyset_deleted_by_hand_is_recreated_and_the_event_names_the_lost_keys()
    {
        var outcome = Decide(null, T0 + TimeSpan.FromHours(3), memory: new RotationMemory(null, "k-old", ["k-older", "k-old"]));

        Assert.Single(outcome.Keyset!.Keys);
        var recreated = Assert.Single(outcome.Events);
        Assert.Equal(KeyEventKind.KeysetRecreated, recreated.Kind);
        Assert.True(recreated.IsWarning);
        Assert.Contains("k-older, k-old", recreated.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Pods_lagging_early_in_the_evidence_window_are_reported_without_moving_the_activation()
    {
        var keyset = Decide(null, T0).Keyset!;
        var activation = T0 + Timings.RotationPeriod;
        keyset = Decide(keyset, activation - Timings.PrePublish).Keyset!;
        var windowOpens = activation - (2 * Bounds.Propagation);

        var early = Decide(keyset, windowOpens, pods: [new("auth-a", keyset.Version - 1)]);

        Assert.Equal(["auth-a"], early.Status.LaggingPods);
        Assert.False(early.KeysetChanged);
        Assert.Equal(windowOpens + (Bounds.Propagation / 2), early.RequeueAt);
    }

    [Fact]
    public void Activation_is_postponed_while_an_auth_pod_has_not_loaded_the_keyset_and_resumes_when_it_has()
    {
        var keyset = Decide(null, T0).Keyset!;
        var activation = T0 + Timings.RotationPeriod;
        keyset = Decide(keyset, activation - Timings.PrePublish).Keyset!;
        var check = activation - Bounds.Propagation;
        AuthPodReport[] lagging = [new("auth-a", keyset.Version), new("auth-b", keyset.Version - 1), new("auth-c", null), new("auth-d", keyset.Version + 5, ["k1"]), new("auth-e", keyset.Version - 1, ["k1", "k2"])];

        var postponed = Decide(keyset, check, pods: lagging);

        Assert.Equal(["auth-b", "auth-c", "auth-d"], postponed.Status.LaggingPods);
        var next = postponed.Keyset!.Keys.Single(k => k.Kid == "k2");
        var active = postponed.Keyset.Keys.Single(k => k.Kid == "k1");
        Assert.Equal(check + (2 * Bounds.Propagation), next.ActivatesAt);
        Assert.Equal(next.ActivatesAt, active.RetiresAt);
        Assert.Equal(next.ActivatesAt + Timings.RetireAfter, active.ExpiresAt);
        Assert.Equal(KeyEventKind.ActivationPostponed, Assert.Single(postponed.Events).Kind);
        Assert.Equal(check + (Bounds.Propagation / 2), postponed.RequeueAt);

        // A pod that reports its kids holds the key whatever version the postponement wrote since.
        var caughtUp = Decide(postponed.Keyset, postponed.RequeueAt!.Value, pods: [new("auth-a", postponed.Keyset.Version), new("auth-b", postponed.Keyset.Version), new("auth-d", keyset.Version, ["k1", "k2"])]);
        Assert.False(caughtUp.KeysetChanged);
        Assert.Empty(caughtUp.Status.LaggingPods);
        Assert.Equal(next.ActivatesAt, caughtUp.RequeueAt);
    }

    /// <summary>
    /// Ten simulated days, deciding at every requeue time and at unannounced moments (resyncs), with a
    /// rotateNow on day 3 and a lagging pod on day 6: exactly one key signs at every second, and no key is
    /// removed before retireAfter has passed since it stopped signing.
    /// </summary>
    [Fact]
    public void Over_many_rotations_exactly_one_key_is_active_at_every_instant_and_none_is_removed_early()
    {
        var random = new Random(7);
        var now = T0;
        var keyset = Decide(null, now).Keyset!;
        var memory = RotationMemory.None;
        var removedAt = new Dictionary<string, DateTimeOffset>();
        var retiredAt = new Dictionary<string, DateTimeOffset>();
        var checkedUntil = now;
        var rotations = 0;
        while (now < T0 + TimeSpan.FromDays(10))
        {
            var spec = now > T0 + TimeSpan.FromDays(3) ? Spec with { RotateNow = "day3" } : Spec;
            var laggingPodVersion = now > T0 + TimeSpan.FromDays(6) && now < T0 + TimeSpan.FromDays(6.05) ? keyset.Version - 1 : keyset.Version;
            var outcome = Decide(keyset, now, spec, memory, [new AuthPodReport("auth-0", laggingPodVersion)]);
            foreach (var key in keyset.Keys.Where(k => outcome.Keyset!.Keys.All(n => n.Kid != k.Kid)))
            {
                removedAt[key.Kid] = now;
            }
            rotations += outcome.Events.Count(e => e.Kind == KeyEventKind.Activated);
            keyset = outcome.Keyset!;
            memory = new RotationMemory(outcome.Status.HandledRotateNow, outcome.Status.ActiveKid, outcome.Status.PublishedKids);
            var next = random.Next(4) == 0 ? now + TimeSpan.FromMinutes(random.Next(1, 240)) : outcome.RequeueAt!.Value;
            next = next < outcome.RequeueAt!.Value ? next : outcome.RequeueAt.Value;
            for (var t = checkedUntil; t < next; t += TimeSpan.FromSeconds(30))
            {
                var signing = keyset.Keys.Where(k => k.ActivatesAt <= t && !(k.RetiresAt <= t)).ToList();
                Assert.True(signing.Count == 1, $"{signing.Count} keys sign at {t:O}");
                foreach (var key in keyset.Keys.Where(k => k.RetiresAt <= t))
                {
                    retiredAt.TryAdd(key.Kid, key.RetiresAt!.Value);
                }
            }
            checkedUntil = next;
            now = next;
        }

        Assert.True(rotations >= 10, $"only {rotations} rotations in 10 days");
        foreach (var (kid, removed) in removedAt)
        {
            Assert.True(removed - retiredAt[kid] >= Timings.RetireAfter, $"{kid} removed {removed - retiredAt[kid]} after retiring");
        }
    }
}
