using Platform.Authentication;

namespace Platform.Auth.Accounts;

/// <summary>Role lists as stored: always with <c>user</c>, sorted and without duplicates.</summary>
public static class RoleSet
{
    public static List<string> Of(IEnumerable<string> roles) =>
        roles.Append(PlatformRoles.User).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();

    public static List<string> With(IEnumerable<string> roles, string role) => Of(roles.Append(role));
}
