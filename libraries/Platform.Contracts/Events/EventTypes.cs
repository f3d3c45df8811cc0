namespace Platform.Contracts.Events;

/// <summary>
/// The event types of the platform (docs/architecture.md §6.2). Each is also the routing key on
/// <c>platform.events</c>, so consumers bind to exactly the types they handle.
/// </summary>
public static class EventTypes
{
    public const string UserRegistered = "user.registered";
    public const string UserDeleted = "user.deleted";
    public const string UserLogin = "user.login";
    public const string UserLogout = "user.logout";
    public const string UserDisabled = "user.disabled";
    public const string UserEnabled = "user.enabled";
    public const string UserRoleChanged = "user.role_changed";
    public const string UserPasswordChanged = "user.password_changed";
    public const string UserEmailVerified = "user.email_verified";
    public const string SessionCreated = "session.created";
    public const string SessionTerminated = "session.terminated";
    public const string SessionExpired = "session.expired";
    public const string SessionsBulkTerminated = "sessions.bulk_terminated";
    public const string TokenRefreshed = "token.refreshed";

    /// <summary>An admin's action, as recorded in auth's audit log.</summary>
    public const string AdminAction = "admin.action";
    public const string TaskCreated = "task.created";
    public const string TaskUpdated = "task.updated";
    public const string TaskDeleted = "task.deleted";
    public const string FileUploaded = "file.uploaded";
    public const string FileDeleted = "file.deleted";
}
