-- Users carry roles: a text array on the row rather than a table, because every token issue reads them with the user
-- and there are a handful at most. Existing accounts become plain users. The partial index finds the admins (the
-- last-admin rule counts them on every demotion).
-- Was EF Core migration 20261204000001_UserRoles (AuthSchema adopts it on databases that EF Core migrated).
ALTER TABLE users ADD COLUMN roles text[] NOT NULL DEFAULT '{user}';
CREATE INDEX users_admins ON users (id) WHERE 'admin' = ANY (roles);
