-- 004: accounts. Every todo belongs to one person (or, until an admin
-- assigns it, to nobody: todos from before this migration and imports
-- without an owner). Sessions and sign-in throttling live here too, so any
-- worker on any host can serve any request. See docs/accounts.md.

-- migrate:up
CREATE TABLE users (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- As the person typed it, trimmed, ASCII letters lower-cased by the
    -- app (the domain is case-insensitive; no provider treats the local
    -- part's case as meaningful).
    email         text        NOT NULL,
    -- libsodium's crypto_pwhash_str(): "$argon2id$v=19$m=...,t=...,p=1$...".
    password_hash text        NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    -- Set by "todoctl user disable": no sign-in, no session works.
    disabled_at   timestamptz,
    CONSTRAINT users_email_form
        CHECK (octet_length(email) BETWEEN 3 AND 254 AND strpos(email, '@') > 1),
    CONSTRAINT users_password_hash_form CHECK (password_hash LIKE '$argon2%')
);
CREATE UNIQUE INDEX users_email_key ON users (email);

-- A session is known only by the SHA-256 of the token in its cookie.
CREATE TABLE sessions (
    hash       bytea       PRIMARY KEY,
    user_id    bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    -- Written at most every TODO_SESSION_TOUCH seconds (session_touch()).
    last_seen  timestamptz NOT NULL DEFAULT now(),
    user_agent text        NOT NULL DEFAULT '',
    CONSTRAINT sessions_hash_length CHECK (octet_length(hash) = 32),
    CONSTRAINT sessions_user_agent_length CHECK (char_length(user_agent) <= 256)
);
CREATE INDEX sessions_user_idx ON sessions (user_id);
CREATE INDEX sessions_last_seen_idx ON sessions (last_seen);

-- Called from a page's statement only when last_seen is stale. On a
-- read-only database (maintenance, a replica) the page still shows: the
-- write is skipped, not the request. The exception block (a
-- subtransaction) is entered only on that stale path.
CREATE FUNCTION session_touch(p_hash bytea) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE sessions SET last_seen = now() WHERE hash = p_hash;
    RETURN true;
EXCEPTION WHEN read_only_sql_transaction THEN
    RETURN false;
END $$;

-- Failed sign-ins per key ('email:ADDRESS' or 'addr:IP') in a window that
-- starts at the first failure. Kept in the database so that the limit holds
-- across workers and hosts.
CREATE TABLE login_failures (
    key      text        PRIMARY KEY,
    failures integer     NOT NULL,
    first_at timestamptz NOT NULL,
    CONSTRAINT login_failures_key_length CHECK (octet_length(key) <= 300)
);
CREATE INDEX login_failures_first_at_idx ON login_failures (first_at);

-- Seconds until a sign-in for this email from this address may be tried
-- again; 0 when it may be tried now.
CREATE FUNCTION login_wait(p_email text, p_addr text, p_window integer,
        p_max_email integer, p_max_addr integer) RETURNS integer
LANGUAGE sql STABLE AS $$
    SELECT coalesce(max(ceil(extract(epoch FROM
               first_at + p_window * interval '1 second' - now())))::integer, 0)
      FROM login_failures
     WHERE first_at > now() - p_window * interval '1 second'
       AND ((key = 'email:' || p_email AND failures >= p_max_email)
         OR (key = 'addr:' || p_addr AND failures >= p_max_addr))
$$;

-- Count one failed sign-in against the email and the address; a window
-- that has passed starts again at 1. Clears a few long-expired rows on the
-- way, so the table stays small without a cron job.
CREATE FUNCTION login_failed(p_email text, p_addr text, p_window integer)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO login_failures AS f (key, failures, first_at)
    SELECT k, 1, now() FROM unnest(ARRAY['email:' || p_email, 'addr:' || p_addr]) AS k
    ON CONFLICT (key) DO UPDATE
       SET failures = CASE WHEN f.first_at > now() - p_window * interval '1 second'
                           THEN f.failures + 1 ELSE 1 END,
           first_at = CASE WHEN f.first_at > now() - p_window * interval '1 second'
                           THEN f.first_at ELSE now() END;
    DELETE FROM login_failures
     WHERE key IN (SELECT key FROM login_failures
                    WHERE first_at < now() - p_window * interval '1 second'
                    ORDER BY first_at LIMIT 20);
END $$;

-- A successful sign-in or sign-up: the old session of this browser (if
-- any) ends, a new one starts (no fixation), the email's failures are
-- forgotten, the hash is replaced when the parameters were raised, and this
-- person's expired sessions are removed.
CREATE FUNCTION session_start(p_user bigint, p_hash bytea, p_user_agent text,
        p_old_hash bytea, p_new_password_hash text, p_idle integer,
        p_max integer) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF p_old_hash IS NOT NULL THEN
        DELETE FROM sessions WHERE hash = p_old_hash;
    END IF;
    DELETE FROM sessions
     WHERE user_id = p_user
       AND (last_seen < now() - p_idle * interval '1 second'
            OR created_at < now() - p_max * interval '1 second');
    INSERT INTO sessions (hash, user_id, user_agent)
    VALUES (p_hash, p_user, p_user_agent);
    DELETE FROM login_failures
     WHERE key = 'email:' || (SELECT email FROM users WHERE id = p_user);
    IF p_new_password_hash IS NOT NULL THEN
        UPDATE users SET password_hash = p_new_password_hash WHERE id = p_user;
    END IF;
END $$;

-- Sign-up: the account and its first session in one statement. NULL when
-- the email is taken (nothing is written then).
CREATE FUNCTION signup(p_email text, p_password_hash text, p_hash bytea,
        p_user_agent text) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    uid bigint;
BEGIN
    INSERT INTO users (email, password_hash) VALUES (p_email, p_password_hash)
    ON CONFLICT (email) DO NOTHING
    RETURNING id INTO uid;
    IF uid IS NULL THEN
        RETURN NULL;
    END IF;
    INSERT INTO sessions (hash, user_id, user_agent)
    VALUES (p_hash, uid, p_user_agent);
    RETURN uid;
END $$;

-- Todos get their owner. NULL: nobody's (shown to nobody).
ALTER TABLE todos ADD COLUMN user_id bigint REFERENCES users (id) ON DELETE CASCADE;
DROP INDEX todos_created_idx;
DROP INDEX todos_completed_created_idx;
CREATE INDEX todos_user_created_idx ON todos (user_id, created_at DESC, id DESC);
CREATE INDEX todos_user_completed_created_idx
    ON todos (user_id, completed, created_at DESC, id DESC);

-- The add form's token is looked up per person from now on.
CREATE OR REPLACE FUNCTION todo_create(p_user bigint, p_title text,
        p_description text, p_token uuid)
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    seen_title text;
    seen_description text;
BEGIN
    IF p_token IS NULL THEN
        INSERT INTO todos (user_id, title, description)
        VALUES (p_user, p_title, p_description);
        RETURN 'created';
    END IF;
    INSERT INTO todos (user_id, title, description, form_token)
    VALUES (p_user, p_title, p_description, p_token)
    ON CONFLICT (form_token) DO NOTHING;
    IF FOUND THEN
        RETURN 'created';
    END IF;
    SELECT title, description INTO seen_title, seen_description
      FROM todos WHERE form_token = p_token AND user_id = p_user;
    IF NOT FOUND OR (seen_title = p_title
                     AND seen_description IS NOT DISTINCT FROM p_description) THEN
        RETURN 'duplicate';
    END IF;
    INSERT INTO todos (user_id, title, description, form_token)
    VALUES (p_user, p_title, p_description,
            md5(p_token::text || chr(10) || p_title || chr(10) ||
                coalesce(p_description, chr(1)))::uuid)
    ON CONFLICT (form_token) DO NOTHING;
    RETURN CASE WHEN FOUND THEN 'created' ELSE 'duplicate' END;
END $$;
DROP FUNCTION todo_create(text, text, uuid);

-- Counts per person, kept by statement-level triggers as before (one row
-- per person: only that person's writes queue on it). Unowned todos are not
-- counted. A person being deleted is skipped: the cascade removes the row.
DROP TRIGGER todo_counts_insert ON todos;
DROP TRIGGER todo_counts_update ON todos;
DROP TRIGGER todo_counts_delete ON todos;
DROP TRIGGER todo_counts_truncate ON todos;
DROP FUNCTION todo_counts_apply();
DROP FUNCTION todo_counts_reset();
DROP TABLE todo_counts;

CREATE TABLE todo_counts (
    user_id   bigint PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    active    bigint NOT NULL DEFAULT 0,
    completed bigint NOT NULL DEFAULT 0
);

CREATE FUNCTION todo_counts_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO todo_counts AS c (user_id, active, completed)
        SELECT user_id, count(*) FILTER (WHERE NOT completed),
               count(*) FILTER (WHERE completed)
          FROM new_rows WHERE user_id IS NOT NULL GROUP BY user_id
        ON CONFLICT (user_id) DO UPDATE
           SET active = c.active + EXCLUDED.active,
               completed = c.completed + EXCLUDED.completed;
    ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO todo_counts AS c (user_id, active, completed)
        SELECT d.user_id, sum(d.active), sum(d.completed)
          FROM (SELECT user_id, (NOT completed)::int AS active,
                       completed::int AS completed FROM new_rows
                UNION ALL
                SELECT user_id, -(NOT completed)::int, -completed::int
                  FROM old_rows) d
         WHERE d.user_id IS NOT NULL
           AND EXISTS (SELECT 1 FROM users u WHERE u.id = d.user_id)
         GROUP BY d.user_id
        HAVING sum(d.active) <> 0 OR sum(d.completed) <> 0
        ON CONFLICT (user_id) DO UPDATE
           SET active = c.active + EXCLUDED.active,
               completed = c.completed + EXCLUDED.completed;
    ELSE
        UPDATE todo_counts c
           SET active = c.active - d.active, completed = c.completed - d.completed
          FROM (SELECT user_id, count(*) FILTER (WHERE NOT completed) AS active,
                       count(*) FILTER (WHERE completed) AS completed
                  FROM old_rows WHERE user_id IS NOT NULL GROUP BY user_id) d
         WHERE c.user_id = d.user_id;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER todo_counts_insert AFTER INSERT ON todos
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION todo_counts_add();
CREATE TRIGGER todo_counts_update AFTER UPDATE ON todos
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION todo_counts_add();
CREATE TRIGGER todo_counts_delete AFTER DELETE ON todos
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION todo_counts_add();

CREATE FUNCTION todo_counts_clear() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM todo_counts;
    RETURN NULL;
END $$;
CREATE TRIGGER todo_counts_truncate AFTER TRUNCATE ON todos
    FOR EACH STATEMENT EXECUTE FUNCTION todo_counts_clear();

-- migrate:down
-- Back to one shared list: every todo, owned or not, is everybody's again;
-- accounts and sessions are dropped.
DROP TRIGGER todo_counts_insert ON todos;
DROP TRIGGER todo_counts_update ON todos;
DROP TRIGGER todo_counts_delete ON todos;
DROP TRIGGER todo_counts_truncate ON todos;
DROP FUNCTION todo_counts_add();
DROP FUNCTION todo_counts_clear();
DROP TABLE todo_counts;

CREATE TABLE todo_counts (
    slot      smallint PRIMARY KEY,
    active    bigint NOT NULL DEFAULT 0,
    completed bigint NOT NULL DEFAULT 0
);
INSERT INTO todo_counts (slot) SELECT g FROM generate_series(0, 15) AS g;
UPDATE todo_counts
   SET active = (SELECT count(*) FROM todos WHERE NOT completed),
       completed = (SELECT count(*) FROM todos WHERE completed)
 WHERE slot = 0;

CREATE FUNCTION todo_counts_apply() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    d_active bigint := 0;
    d_completed bigint := 0;
BEGIN
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        SELECT d_active + count(*) FILTER (WHERE NOT completed),
               d_completed + count(*) FILTER (WHERE completed)
          INTO d_active, d_completed FROM new_rows;
    END IF;
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        SELECT d_active - count(*) FILTER (WHERE NOT completed),
               d_completed - count(*) FILTER (WHERE completed)
          INTO d_active, d_completed FROM old_rows;
    END IF;
    IF d_active <> 0 OR d_completed <> 0 THEN
        UPDATE todo_counts
           SET active = active + d_active, completed = completed + d_completed
         WHERE slot = pg_backend_pid() % 16;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER todo_counts_insert AFTER INSERT ON todos
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION todo_counts_apply();
CREATE TRIGGER todo_counts_update AFTER UPDATE ON todos
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION todo_counts_apply();
CREATE TRIGGER todo_counts_delete AFTER DELETE ON todos
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION todo_counts_apply();
CREATE FUNCTION todo_counts_reset() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE todo_counts SET active = 0, completed = 0;
    RETURN NULL;
END $$;
CREATE TRIGGER todo_counts_truncate AFTER TRUNCATE ON todos
    FOR EACH STATEMENT EXECUTE FUNCTION todo_counts_reset();

CREATE OR REPLACE FUNCTION todo_create(p_title text, p_description text, p_token uuid)
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    seen_title text;
    seen_description text;
BEGIN
    IF p_token IS NULL THEN
        INSERT INTO todos (title, description) VALUES (p_title, p_description);
        RETURN 'created';
    END IF;
    INSERT INTO todos (title, description, form_token)
    VALUES (p_title, p_description, p_token)
    ON CONFLICT (form_token) DO NOTHING;
    IF FOUND THEN
        RETURN 'created';
    END IF;
    SELECT title, description INTO seen_title, seen_description
      FROM todos WHERE form_token = p_token;
    IF NOT FOUND OR (seen_title = p_title
                     AND seen_description IS NOT DISTINCT FROM p_description) THEN
        RETURN 'duplicate';
    END IF;
    INSERT INTO todos (title, description, form_token)
    VALUES (p_title, p_description,
            md5(p_token::text || chr(10) || p_title || chr(10) ||
                coalesce(p_description, chr(1)))::uuid)
    ON CONFLICT (form_token) DO NOTHING;
    RETURN CASE WHEN FOUND THEN 'created' ELSE 'duplicate' END;
END $$;
DROP FUNCTION todo_create(bigint, text, text, uuid);

DROP INDEX todos_user_created_idx;
DROP INDEX todos_user_completed_created_idx;
ALTER TABLE todos DROP COLUMN user_id;
CREATE INDEX todos_created_idx ON todos (created_at DESC, id DESC);
CREATE INDEX todos_completed_created_idx ON todos (completed, created_at DESC, id DESC);

DROP FUNCTION signup(text, text, bytea, text);
DROP FUNCTION session_start(bigint, bytea, text, bytea, text, integer, integer);
DROP FUNCTION login_failed(text, text, integer);
DROP FUNCTION login_wait(text, text, integer, integer, integer);
DROP TABLE login_failures;
DROP FUNCTION session_touch(bytea);
DROP TABLE sessions;
DROP TABLE users;
