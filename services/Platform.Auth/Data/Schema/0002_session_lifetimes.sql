-- Sessions get an idle timeout (so their last activity is what matters, and what eviction orders by), the client's
-- address and device, and the indexes the cleanup job walks: open sessions by activity and by absolute end, ended
-- ones by when they ended.
-- Was EF Core migration 20261127000001_SessionLifetimes (AuthSchema adopts it on databases that EF Core migrated).
ALTER TABLE sessions RENAME COLUMN last_used_at TO last_activity_at;
ALTER TABLE sessions ADD COLUMN ip_address inet NULL, ADD COLUMN device text NULL;

DROP INDEX sessions_live_by_user;
CREATE INDEX sessions_open_by_user ON sessions (user_id, last_activity_at) WHERE revoked_at IS NULL;
CREATE INDEX sessions_open_by_activity ON sessions (last_activity_at) WHERE revoked_at IS NULL;
CREATE INDEX sessions_open_by_end ON sessions (expires_at) WHERE revoked_at IS NULL;
CREATE INDEX sessions_ended ON sessions (revoked_at) WHERE revoked_at IS NOT NULL;
