using System.Net;

namespace Platform.Auth.Data;

/// <summary>
/// One admin action: who (the admin's id and address at the time), what (an action name and its details as JSON),
/// to whom, when, and from where (the client address as auth sees it through trusted proxies). Never updated.
/// </summary>
public sealed class AuditEntry
{
    /// <summary>UUIDv7, so ordering by id is ordering by time and the cursor of the audit pages.</summary>
    public Guid Id { get; set; }

    public DateTimeOffset OccurredAt { get; set; }

    /// <summary>Null when no user acted: the <c>create-admin</c> command on the server.</summary>
    public Guid? ActorId { get; set; }

    public string? ActorEmail { get; set; }

    public string Action { get; set; } = "";

    public Guid? TargetUserId { get; set; }

    public IPAddress? ClientAddress { get; set; }

    public string Details { get; set; } = "{}";
}
