using Platform.Auth.Data;

namespace Platform.Auth.Admin;

public sealed record AdminUserView(Guid Id, string Email, string? Name, DateTimeOffset CreatedAt, IReadOnlyList<string> Roles, DateTimeOffset? DisabledAt)
{
    public static AdminUserView Of(User user) => new(user.Id, user.Email, user.Name, user.CreatedAt, user.Roles, user.DisabledAt);
}

/// <summary>Newest account first; <c>nextCursor</c> is null on the last page.</summary>
public sealed record AdminUserPage(IReadOnlyList<AdminUserView> Items, string? NextCursor);

public sealed record AdminSessionView(Guid Id, DateTimeOffset CreatedAt, DateTimeOffset LastActivityAt, DateTimeOffset ExpiresAt, string? IpAddress, string? Device);

/// <summary>One user with its live sessions, the most recently active first.</summary>
public sealed record AdminUserDetail(AdminUserView User, IReadOnlyList<AdminSessionView> Sessions);

public sealed record SetRolesRequest(IReadOnlyList<string>? Roles);

/// <summary>Newest entry first; <c>nextCursor</c> is null on the last page.</summary>
public sealed record AuditPage(IReadOnlyList<AuditView> Items, string? NextCursor);
