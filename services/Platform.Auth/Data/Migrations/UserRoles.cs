using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Platform.Auth.Data.Migrations;

/// <summary>
/// Users carry roles: a text array on the row rather than a table, because every token issue reads them with the
/// user and there are a handful at most. Existing accounts become plain users. The partial index finds the admins
/// (the last-admin rule counts them on every demotion).
/// </summary>
[DbContext(typeof(AuthDbContext))]
[Migration("20261204000001_UserRoles")]
public sealed class UserRoles : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.Sql("""
            ALTER TABLE users ADD COLUMN roles text[] NOT NULL DEFAULT '{user}';
            CREATE INDEX users_admins ON users (id) WHERE 'admin' = ANY (roles);
            """);
    }

    protected override void Down(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.Sql("DROP INDEX users_admins; ALTER TABLE users DROP COLUMN roles;");
    }
}
