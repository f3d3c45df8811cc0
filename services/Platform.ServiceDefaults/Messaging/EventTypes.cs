namespace Platform.ServiceDefaults.Messaging;

/// <summary>
/// The event types of the platform (docs/architecture.md §6.2). Each is also the routing key on
/// <c>platform.events</c>, so consumers bind to exactly the types they handle.
/// </summary>
public static class EventTypes
{
    public const string UserRegistered = "user.registered";
    public const string UserDeleted = "user.deleted";
    public const string TaskCreated = "task.created";
    public const string TaskUpdated = "task.updated";
    public const string TaskDeleted = "task.deleted";
    public const string FileUploaded = "file.uploaded";
    public const string FileDeleted = "file.deleted";
}
