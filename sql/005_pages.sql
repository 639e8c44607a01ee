-- 005: what the pages need beyond accounts: undo for deletes, search over
-- titles and descriptions, and each person's time zone. See
-- docs/accounts.md (undo window, time zone) and docs/performance.md
-- (search plans).

-- migrate:up

-- ---- undo ----
-- A delete or "clear completed" moves the rows here, under one batch
-- number, instead of dropping them; Undo moves the batch back with the
-- same ids and times. Batches older than the undo window are removed by
-- the next delete (of anyone, a bounded number at a time), so the table
-- stays small without a cron job; an account's batches go with it.
CREATE SEQUENCE todo_trash_batch_seq AS bigint;
CREATE TABLE todo_trash (
    user_id     bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    batch       bigint      NOT NULL,
    deleted_at  timestamptz NOT NULL DEFAULT now(),
    id          bigint      NOT NULL,
    title       text        NOT NULL,
    description text,
    completed   boolean     NOT NULL,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    form_token  uuid,
    PRIMARY KEY (user_id, batch, id)
);
CREATE INDEX todo_trash_deleted_at_idx ON todo_trash (deleted_at);
-- (undo functions: below this line)

-- ---- search ----
-- Case-insensitive in any language whatever the database's locale: ICU's
-- root locale lowers both the text and the query (a C-locale database
-- lowers only ASCII). pg_trgm's GIN index serves LIKE '%...%' on it.
-- PostgreSQL 13+ lets a database owner create these trusted extensions
-- (Neon allows them).
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE FUNCTION todo_search_text(p_title text, p_description text)
RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT lower((p_title || coalesce(' ' || p_description, '')) COLLATE "und-x-icu")
$$;
-- (search functions: below this line)
-- The lowered text is stored (computed on insert and update): a query too
-- short for trigrams walks the person's rows, and lowering each row with
-- ICU there costs about six times the LIKE itself (docs/performance.md).
-- Adding it rewrites todos once.
ALTER TABLE todos ADD COLUMN search text
    GENERATED ALWAYS AS (todo_search_text(title, description)) STORED;
-- The app's search (store.c) asks for one person's matches: with user_id
-- in the same GIN index (btree_gin, trusted like pg_trgm) a rare word is
-- found from the index alone, instead of intersecting every person's
-- matches with the person's 100,000 rows (docs/performance.md, Search).
CREATE EXTENSION IF NOT EXISTS btree_gin;
CREATE INDEX todos_user_search_idx ON todos
    USING gin (user_id, search gin_trgm_ops);

-- ---- time zones ----
-- An IANA name PostgreSQL knows (pg_timezone_names); the app checks it
-- when the person sets it.
ALTER TABLE users ADD COLUMN time_zone text NOT NULL DEFAULT 'UTC';
-- (time zone functions: below this line)
-- The names the account page offers, read once here: pg_timezone_names
-- reads every zone file (tens of ms), too slow for each page view. Only
-- the Area/Location names and UTC (about 490): posix/, right/, Etc/ and
-- the old aliases (US/Eastern, GB) repeat them. Saving checks
-- pg_timezone_names itself, so any name PostgreSQL knows is accepted.
CREATE TABLE time_zone_names (name text PRIMARY KEY);
INSERT INTO time_zone_names
    SELECT name FROM pg_timezone_names
    WHERE name ~ '^(Africa|America|Antarctica|Arctic|Asia|Atlantic|Australia|Europe|Indian|Pacific)/'
        OR name = 'UTC'
    ON CONFLICT DO NOTHING;

-- migrate:down
DROP TABLE time_zone_names;
ALTER TABLE users DROP COLUMN time_zone;
DROP INDEX todos_user_search_idx;
ALTER TABLE todos DROP COLUMN search;
DROP FUNCTION todo_search_text(text, text);
-- Created by the up part (this schema is the app's alone).
DROP EXTENSION IF EXISTS btree_gin;
DROP EXTENSION IF EXISTS pg_trgm;
DROP TABLE todo_trash;
DROP SEQUENCE todo_trash_batch_seq;
