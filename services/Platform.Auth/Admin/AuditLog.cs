using System.Net;
using System.Security.Claims;
using System.Text.Json;
using Platform.Auth.Accounts;
using Platform.Auth.Data;
using Platform.Auth.Sessions;
using Platform.Authentication;
using Platform.Contracts.Events;
using Platform.Messaging;

namespace Platform.Auth.Admin;

/// <summary>
/// Records an admin action in <c>audit_log</c> and, in the same transaction, the <c>admin.action</c> event that
/// carries it to the rest of the platform. The caller saves and commits with the change it describes.
/// </summary>
public static class AuditLog
{
    public static AuditEntry Record(AuthDbContext db, HttpContext http, string action, Guid? targetUserId, object? details = null) =>
        Record(db, http.User.UserId(), http.User.Email(), SessionsApi.ClientAddress(http), action, targetUserId, details);

    /// <param name="actorId">Null when no user acted (the <c>create-admin</c> command).</param>
    public static AuditEntry Record(AuthDbContext db, Guid? actorId, string? actorEmail, IPAddress? clientAddress, string action, Guid? targetUserId, object? details)
    {
        var occurredAt = DateTimeOffset.UtcNow;
        var entry = new AuditEntry
        {
            Id = Guid.CreateVersion7(occurredAt),
            OccurredAt = occurredAt.AddTicks(-(occurredAt.Ticks % TimeSpan.TicksPerMicrosecond)),
            ActorId = actorId,
            ActorEmail = actorEmail,
            Action = action,
            TargetUserId = targetUserId,
            ClientAddress = clientAddress,
            Details = JsonSerializer.Serialize(details ?? new { }, JsonSerializerOptions.Web),
        };
        db.AuditLog.Add(entry);
        db.AddEvent(AccountEvents.Create(EventTypes.AdminAction, AuditView.Of(entry)));
        return entry;
    }
}

/// <summary>An audit entry as the API and the <c>admin.action</c> event show it.</summary>
public sealed record AuditView(Guid Id, DateTimeOffset OccurredAt, Guid? ActorId, string? ActorEmail, string Action, Guid? TargetUserId,
    string? ClientIp, JsonElement Details)
{
    public static AuditView Of(AuditEntry entry) => new(entry.Id, entry.OccurredAt, entry.ActorId, entry.ActorEmail, entry.Action,
        entry.TargetUserId, entry.ClientAddress?.ToString(), JsonDocument.Parse(entry.Details).RootElement.Clone());
}

/// <summary>The names of audited actions.</summary>
public static class AuditActions
{
    public const string Disable = "user.disable";
    public const string Enable = "user.enable";
    public const string RevokeSessions = "user.revoke_sessions";
    public const string SetRoles = "user.set_roles";
    public const string Delete = "user.delete";

    /// <summary>The <c>create-admin</c> command made or promoted an admin.</summary>
    public const string CreateAdmin = "admin.create";
}
