using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Platform.Auth.Data.Migrations;

/// <summary>
/// Admins can disable accounts, and every admin action is recorded. The audit log has no foreign keys: it must
/// outlive the users it names (a deleted user's deletion is exactly what it must keep). Its indexes serve the
/// filters of <c>GET /api/admin/audit</c>, newest first.
/// </summary>
[DbContext(typeof(AuthDbContext))]
[Migration("20261204000002_AdminAudit")]
public sealed class AdminAudit : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.Sql("""
            ALTER TABLE users ADD COLUMN disabled_at timestamptz NULL;

            CREATE TABLE audit_log (
                id uuid PRIMARY KEY,
                occurred_at timestamptz NOT NULL,
                actor_id uuid NULL,
                actor_email text NULL,
                action text NOT NULL,
                target_user_id uuid NULL,
                client_ip inet NULL,
                details jsonb NOT NULL DEFAULT '{}'
            );
            CREATE INDEX audit_log_by_actor ON audit_log (actor_id, id);
            CREATE INDEX audit_log_by_target ON audit_log (target_user_id, id);
            CREATE INDEX audit_log_by_action ON audit_log (action, id);
            """);
    }

    protected override void Down(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.Sql("DROP TABLE audit_log; ALTER TABLE users DROP COLUMN disabled_at;");
    }
}
