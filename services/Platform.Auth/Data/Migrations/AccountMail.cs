using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Platform.Auth.Data.Migrations;

/// <summary>
/// Password reset and e-mail verification (issue 18): users get <c>email_verified</c> (existing accounts start
/// unverified); single-use tokens are stored hashed in <c>account_tokens</c>; mails wait in <c>mail_outbox</c> until
/// an SMTP server accepts them. The outbox index holds only what the sender looks for: rows due, oldest first.
/// </summary>
[DbContext(typeof(AuthDbContext))]
[Migration("20261205000001_AccountMail")]
public sealed class AccountMail : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.Sql("""
            ALTER TABLE users ADD COLUMN email_verified boolean NOT NULL DEFAULT false;

            CREATE TABLE account_tokens (
                hash bytea PRIMARY KEY,
                user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
                purpose text NOT NULL,
                created_at timestamptz NOT NULL,
                expires_at timestamptz NOT NULL,
                used_at timestamptz NULL
            );
            CREATE INDEX account_tokens_by_user ON account_tokens (user_id, purpose) WHERE used_at IS NULL;

            CREATE TABLE mail_outbox (
                id uuid PRIMARY KEY,
                message_id text NOT NULL,
                recipient text NOT NULL,
                subject text NOT NULL,
                text_body text NOT NULL,
                html_body text NOT NULL,
                created_at timestamptz NOT NULL,
                attempts integer NOT NULL DEFAULT 0,
                next_attempt_at timestamptz NOT NULL,
                last_error text NULL
            );
            CREATE INDEX mail_outbox_due ON mail_outbox (next_attempt_at, created_at);
            """);
    }

    protected override void Down(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.Sql("DROP TABLE mail_outbox; DROP TABLE account_tokens; ALTER TABLE users DROP COLUMN email_verified;");
    }
}
