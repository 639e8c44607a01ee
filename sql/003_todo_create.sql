-- 003: adding a todo from the add form, idempotent on the form's one-time
-- token but without losing a different todo sent with a stale form.
-- One statement for the app (one round trip); inside, each statement sees
-- what concurrent transactions committed (READ COMMITTED, volatile
-- function), which a single INSERT ... ON CONFLICT plus a check in the same
-- statement would not.

-- migrate:up
CREATE FUNCTION todo_create(p_title text, p_description text, p_token uuid)
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
    -- The token was used before. Same text: the same form sent again
    -- (double click, reload, retry), nothing to do. A todo deleted since
    -- is not brought back by a reload either.
    SELECT title, description INTO seen_title, seen_description
      FROM todos WHERE form_token = p_token;
    IF NOT FOUND OR (seen_title = p_title
                     AND seen_description IS NOT DISTINCT FROM p_description) THEN
        RETURN 'duplicate';
    END IF;
    -- Other text: a form the browser kept (Back button) used for a new
    -- todo. Add it under a token derived from the spent one and the text,
    -- so that this post, repeated, is again a no-op.
    INSERT INTO todos (title, description, form_token)
    VALUES (p_title, p_description,
            md5(p_token::text || chr(10) || p_title || chr(10) ||
                coalesce(p_description, chr(1)))::uuid)
    ON CONFLICT (form_token) DO NOTHING;
    RETURN CASE WHEN FOUND THEN 'created' ELSE 'duplicate' END;
END $$;

-- migrate:down
DROP FUNCTION todo_create(text, text, uuid);
