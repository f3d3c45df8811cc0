using Platform.Data;

namespace Platform.Auth.Data;

/// <summary>
/// The auth schema: numbered SQL scripts in <c>Data/Schema</c>, like every service's. They began as EF Core
/// migrations; a database EF Core migrated has them adopted from <c>__EFMigrationsHistory</c> by these ids.
/// </summary>
public static class AuthSchema
{
    public static SchemaComponent Component { get; } = SchemaComponent.FromResources("auth", typeof(AuthSchema).Assembly, new Dictionary<int, string>
    {
        [1] = "20261126000001_InitialSchema",
        [2] = "20261127000001_SessionLifetimes",
        [3] = "20261204000001_UserRoles",
        [4] = "20261204000002_AdminAudit",
        [5] = "20261205000001_AccountMail",
    });
}
