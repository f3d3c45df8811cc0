using Platform.Contracts.Events;

namespace Platform.Auth.Accounts;

/// <summary>
/// The events auth writes to its outbox about accounts and sessions (README, "Events"). Payloads name users and
/// sessions by id; they never carry a password, a token or a hash of one.
/// </summary>
public static class AccountEvents
{
    public const string Source = "auth";

    public static IntegrationEvent Login(Guid userId, Guid sessionId) => Create(EventTypes.UserLogin, new { userId, sessionId });

    public static IntegrationEvent Logout(Guid userId, Guid sessionId) => Create(EventTypes.UserLogout, new { userId, sessionId });

    public static IntegrationEvent SessionCreated(Guid userId, Guid sessionId, string? device) =>
        Create(EventTypes.SessionCreated, new { userId, sessionId, device });

    public static IntegrationEvent SessionTerminated(Guid userId, Guid sessionId, string reason) =>
        Create(EventTypes.SessionTerminated, new { userId, sessionId, reason });

    public static IntegrationEvent SessionExpired(Guid userId, Guid sessionId, string reason) =>
        Create(EventTypes.SessionExpired, new { userId, sessionId, reason });

    public static IntegrationEvent SessionsBulkTerminated(Guid userId, IReadOnlyCollection<Guid> sessionIds, string reason) =>
        Create(EventTypes.SessionsBulkTerminated, new { userId, sessionIds, count = sessionIds.Count, reason });

    public static IntegrationEvent TokenRefreshed(Guid userId, Guid sessionId) => Create(EventTypes.TokenRefreshed, new { userId, sessionId });

    public static IntegrationEvent Disabled(Guid userId, Guid? actorId) => Create(EventTypes.UserDisabled, new { userId, actorId });

    public static IntegrationEvent Enabled(Guid userId, Guid? actorId) => Create(EventTypes.UserEnabled, new { userId, actorId });

    /// <param name="actorId">The admin who changed them; null when the <c>create-admin</c> command did.</param>
    public static IntegrationEvent RoleChanged(Guid userId, IReadOnlyCollection<string> previousRoles, IReadOnlyCollection<string> roles, Guid? actorId) =>
        Create(EventTypes.UserRoleChanged, new { userId, roles, previousRoles, actorId });

    /// <param name="via"><c>change</c> (knowing the current password, from session <paramref name="sessionId"/>) or <c>reset</c> (a mailed link; no session).</param>
    public static IntegrationEvent PasswordChanged(Guid userId, Guid? sessionId, string via) =>
        Create(EventTypes.UserPasswordChanged, new { userId, sessionId, via });

    public static IntegrationEvent EmailVerified(Guid userId) => Create(EventTypes.UserEmailVerified, new { userId });

    public static IntegrationEvent Create<TData>(string type, TData data) =>
        IntegrationEvent.Create(type, Source, data, System.Diagnostics.Activity.Current?.TraceId.ToString());
}
