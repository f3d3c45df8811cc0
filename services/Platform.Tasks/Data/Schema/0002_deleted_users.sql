-- A deleted user's tombstone, on the row every write of the user's tasks locks first (its cache generation): the
-- purge of user.deleted sets it before it deletes, and a write that gets the row after it sees it and does nothing.
-- Without it a create that raced the purge, or came later with a token issued before the deletion, kept a task of
-- a deleted account for ever. A constant default adds the column without rewriting the table.
ALTER TABLE cache_generations ADD COLUMN IF NOT EXISTS deleted boolean NOT NULL DEFAULT false;
