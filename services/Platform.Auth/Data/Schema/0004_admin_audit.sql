-- Admins can disable accounts, and every admin action is recorded. The audit log has no foreign keys: it must outlive
-- the users it names (a deleted user's deletion is exactly what it must keep). Its indexes serve the filters of GET
-- /api/admin/audit, newest first.
-- Was EF Core migration 20261204000002_AdminAudit (AuthSchema adopts it on databases that EF Core migrated).
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
