using Platform.Data.Retention;

namespace Platform.Auth.Sessions;

/// <summary>
/// How long an ended session (revoked, or closed by expiry) is kept, with its refresh-token chain, which goes with
/// it by cascade. The revocation propagator re-publishes the revocations of the last access-token lifetime (at most
/// an hour) from these rows, and someone looking into a compromised account wants to see where it logged in from:
/// 30 days by default, at least a day. Refresh tokens of a live session, spent ones included, stay as long as the
/// session: a spent token presented again is how reuse is detected, and a session lives at most
/// <c>Sessions:AbsoluteLifetime</c>, which bounds the chain.
/// </summary>
public static class EndedSessionsRetention
{
    public static readonly RetentionRule Rule = new(
        "sessions",
        "revoked_at",
        DefaultHorizon: TimeSpan.FromDays(30),
        MinimumHorizon: TimeSpan.FromDays(1),
        "revocations of the last access-token lifetime are re-published from ended sessions, and a day is the least left to look into one.");

    /// <summary>The revocations of deleted accounts' sessions: only the last access-token lifetime (at most an hour) is read.</summary>
    public static readonly RetentionRule DeletedUsersRule = new(
        "deleted_user_sessions",
        "revoked_at",
        DefaultHorizon: TimeSpan.FromDays(1),
        MinimumHorizon: TimeSpan.FromHours(2),
        "the revocation propagator re-publishes a deleted account's revocations of the last access-token lifetime, at most an hour.");
}
