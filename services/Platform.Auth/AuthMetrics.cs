using System.Diagnostics.Metrics;
using Platform.Auth.Keys;
using Platform.Auth.Sessions;

namespace Platform.Auth;

/// <summary>The auth service's own instruments (docs/architecture.md §10.2), exported as auth_* by the service defaults.</summary>
public sealed class AuthMetrics
{
    public const string MeterName = "Platform.Auth";

    private readonly Counter<long> logins;
    private readonly Counter<long> sessionsRevoked;
    private readonly Counter<long> sessionsExpired;
    private readonly Counter<long> sessionActivity;

    public AuthMetrics(IMeterFactory meters, KeysetProvider keys, TimeProvider clock)
    {
        var meter = meters.Create(MeterName);
        logins = meter.CreateCounter<long>("auth.logins", "{login}", "Login attempts by result.");
        sessionsRevoked = meter.CreateCounter<long>("auth.sessions.revoked", "{session}", "Sessions revoked, by reason.");
        sessionsExpired = meter.CreateCounter<long>("auth.sessions.expired", "{session}", "Sessions closed because they passed their idle timeout or absolute lifetime, by which.");
        sessionActivity = meter.CreateCounter<long>("auth.session_activity", "{call}",
            "Session activity marks, by whether they were written to the database or coalesced with a recent write.");
        PasswordHashDuration = meter.CreateHistogram("auth.password_hash.duration", "s", "Time to compute or verify one bcrypt hash.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5, 1, 2.5] });
        meter.CreateObservableGauge("auth.signing_key.age", () => SigningKeyAge(keys, clock), "s", "Time since the key that signs now became active.");
        meter.CreateObservableGauge("auth.keyset.version", () => keys.Current.Version, "{version}", "Version of the keyset file this pod has loaded.");
    }

    public Histogram<double> PasswordHashDuration { get; }

    public void Login(string result) => logins.Add(1, new KeyValuePair<string, object?>("result", result));

    public void SessionRevoked(string reason, int count = 1) => sessionsRevoked.Add(count, new KeyValuePair<string, object?>("reason", reason));

    public void SessionsExpired(SessionExpiry expiry, int count = 1) =>
        sessionsExpired.Add(count, new KeyValuePair<string, object?>("reason", expiry == SessionExpiry.Idle ? "idle" : "absolute"));

    public void ActivityRecorded() => sessionActivity.Add(1, new KeyValuePair<string, object?>("result", "written"));

    public void ActivityCoalesced() => sessionActivity.Add(1, new KeyValuePair<string, object?>("result", "coalesced"));

    private static IEnumerable<Measurement<double>> SigningKeyAge(KeysetProvider keys, TimeProvider clock)
    {
        var now = clock.GetUtcNow();
        if (keys.Current.ActiveAt(now) is { } active)
        {
            yield return new Measurement<double>((now - active.Key.ActivatesAt).TotalSeconds);
        }
    }
}
