-- Password reset and e-mail verification (issue 18): users get email_verified (existing accounts start unverified);
-- single-use tokens are stored hashed in account_tokens; mails wait in mail_outbox until an SMTP server accepts them.
-- The outbox index holds only what the sender looks for: rows due, oldest first.
-- Was EF Core migration 20261205000001_AccountMail (AuthSchema adopts it on databases that EF Core migrated).
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
