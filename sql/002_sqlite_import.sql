-- 002: bookkeeping for "todoctl import-sqlite", so that running it again
-- merges instead of duplicating or overwriting. No foreign key to todos on
-- purpose: a todo deleted in the app must stay known as "imported once".

-- migrate:up
CREATE TABLE sqlite_imported (
    todo_id     bigint PRIMARY KEY,
    -- sqlite_import_digest() of the row as the import wrote it: equal to
    -- the digest of the converted source row then, and to the todo's own
    -- digest for as long as nobody edits it in the app.
    digest      bytea       NOT NULL,
    imported_at timestamptz NOT NULL DEFAULT now()
);

-- Independent of the session's TimeZone and DateStyle: timestamps enter as
-- exact epoch numerics. The row constructor keeps NULL distinct from ''.
CREATE FUNCTION sqlite_import_digest(title text, description text,
        completed boolean, created_at timestamptz, updated_at timestamptz)
    RETURNS bytea LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT sha256(convert_to(row(title, description, completed,
        extract(epoch FROM created_at), extract(epoch FROM updated_at))::text,
        'UTF8'))
$$;

-- migrate:down
DROP FUNCTION sqlite_import_digest(text, text, boolean, timestamptz,
    timestamptz);
DROP TABLE sqlite_imported;
