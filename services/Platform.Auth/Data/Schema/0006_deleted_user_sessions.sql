-- The revocations of a deleted account's sessions outlive its rows (the sessions go with the user by cascade): the
-- revocation propagator re-publishes from here what Redis did not take when the account was deleted. The retention
-- job empties it after a day; only the last access-token lifetime (at most an hour) is ever read.
CREATE TABLE deleted_user_sessions (
    session_id uuid PRIMARY KEY,
    revoked_at timestamptz NOT NULL
);
CREATE INDEX deleted_user_sessions_revoked_at ON deleted_user_sessions (revoked_at);
