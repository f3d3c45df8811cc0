using Microsoft.EntityFrameworkCore;
using Platform.Api.OpenApi;
using Platform.Api.Paging;
using Platform.Auth.Data;
using Platform.Hosting.Problems;

namespace Platform.Auth.Admin;

/// <summary>The audit log of admin actions, newest first, filtered by actor, target, action and time.</summary>
public static class AdminAuditApi
{
    public static RouteGroupBuilder MapAdminAuditApi(this RouteGroupBuilder admin)
    {
        admin.MapGet("/audit", ListAsync).WithName("AdminListAudit").WithSummary("The audit log of admin actions")
            .WithDescription("Filters: actorId, targetUserId, action (e.g. user.disable), since and until (ISO 8601, since inclusive, until exclusive). cursor is the nextCursor of the previous page; limit 1–200 (default 50). Newest first.")
            .Produces<AuditPage>()
            .ProducesProblems(StatusCodes.Status400BadRequest, "A filter, the cursor or the limit is not valid.", ProblemTypes.Validation);
        return admin;
    }

    private static async Task<IResult> ListAsync(string? actorId, string? targetUserId, string? action, string? since, string? until,
        string? cursor, string? limit, AuthDbContext db, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        var page = PageQuery.Parse(cursor, limit, errors);
        var actor = ParseGuid(actorId, "actorId", errors);
        var target = ParseGuid(targetUserId, "targetUserId", errors);
        var from = ParseTime(since, "since", errors);
        var to = ParseTime(until, "until", errors);
        if (action is { Length: > 64 } || action?.Any(char.IsControl) == true)
        {
            errors["action"] = ["The action is at most 64 characters without control characters."];
        }
        if (errors.Count > 0)
        {
            return AuthProblems.Validation(errors);
        }
        var entries = page.After is { } after ? db.AuditLog.FromSql($"SELECT * FROM audit_log WHERE id < {after}") : db.AuditLog;
        if (actor is { } actorValue)
        {
            entries = entries.Where(e => e.ActorId == actorValue);
        }
        if (target is { } targetValue)
        {
            entries = entries.Where(e => e.TargetUserId == targetValue);
        }
        if (action is not null)
        {
            entries = entries.Where(e => e.Action == action);
        }
        if (from is { } fromValue)
        {
            entries = entries.Where(e => e.OccurredAt >= fromValue);
        }
        if (to is { } toValue)
        {
            entries = entries.Where(e => e.OccurredAt < toValue);
        }
        var fetched = await entries.AsNoTracking().OrderByDescending(e => e.Id).Take(page.Limit + 1).ToListAsync(cancellationToken);
        var (items, next) = page.Cut(fetched, e => e.Id);
        return TypedResults.Ok(new AuditPage([.. items.Select(AuditView.Of)], next));
    }

    private static Guid? ParseGuid(string? text, string field, Dictionary<string, string[]> errors)
    {
        if (text is null)
        {
            return null;
        }
        if (Guid.TryParse(text, out var id))
        {
            return id;
        }
        errors[field] = ["Not a UUID."];
        return null;
    }

    private static DateTimeOffset? ParseTime(string? text, string field, Dictionary<string, string[]> errors)
    {
        if (text is null)
        {
            return null;
        }
        if (DateTimeOffset.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var time))
        {
            return time.ToUniversalTime();
        }
        errors[field] = ["Not an ISO 8601 date and time."];
        return null;
    }
}
