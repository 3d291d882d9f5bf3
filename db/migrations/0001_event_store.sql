-- The event store: the only source of truth (DESIGN.md, "The event store protocol").

CREATE TABLE events (
    global_position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- The writing transaction's id: global order is (tx_id, global_position), and readers
    -- stop below the oldest running transaction, so a late commit is never skipped.
    tx_id xid8 NOT NULL DEFAULT pg_current_xact_id(),
    stream_id text NOT NULL,
    stream_version bigint NOT NULL CHECK (stream_version > 0),
    event_id uuid NOT NULL UNIQUE,
    event_type text NOT NULL,
    schema_version integer NOT NULL DEFAULT 1,
    data jsonb NOT NULL,
    metadata jsonb NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT events_stream_version_unique UNIQUE (stream_id, stream_version)
);

CREATE INDEX events_commit_order ON events (tx_id, global_position);
CREATE INDEX events_type_commit_order ON events (event_type, tx_id, global_position);

-- One row per command id (the client's Idempotency-Key or an actor's deterministic id):
-- a repeat with the same request hash returns the original versions.
CREATE TABLE commands (
    command_id text PRIMARY KEY,
    request_hash text NOT NULL,
    stream_id text NOT NULL,
    first_version bigint NOT NULL,
    last_version bigint NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now()
);

CREATE FUNCTION refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
CREATE TRIGGER commands_append_only BEFORE UPDATE OR DELETE ON commands
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER commands_no_truncate BEFORE TRUNCATE ON commands
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();

-- Append in one round trip and one short transaction. `p_events` is a JSON array of
-- {id, type, data, metadata}: one parameter is cheaper to send than four arrays.
-- Errors:
--   OE409 the stream is not at the expected version (a unique violation on
--         (stream_id, stream_version) is the same conflict, lost in a race);
--   OE422 the command id was used before with a different request.
CREATE FUNCTION append_events(
    p_stream_id text,
    p_expected_version bigint,
    p_command_id text,
    p_request_hash text,
    p_events jsonb
) RETURNS TABLE (stream_id text, first_version bigint, last_version bigint, duplicate boolean)
LANGUAGE plpgsql AS $$
DECLARE
    v_count bigint := jsonb_array_length(p_events);
    v_current bigint;
    v_done commands%ROWTYPE;
BEGIN
    IF p_command_id IS NOT NULL THEN
        -- A racing twin blocks here until the first commits, then sees its row.
        INSERT INTO commands AS c (command_id, request_hash, stream_id, first_version, last_version)
        VALUES (p_command_id, p_request_hash, p_stream_id,
                p_expected_version + 1, p_expected_version + v_count)
        ON CONFLICT (command_id) DO NOTHING;
        IF NOT FOUND THEN
            SELECT * INTO STRICT v_done FROM commands c WHERE c.command_id = p_command_id;
            IF v_done.request_hash <> p_request_hash THEN
                RAISE EXCEPTION 'command id % reused with a different request', p_command_id
                    USING ERRCODE = 'OE422', DETAIL = v_done.stream_id;
            END IF;
            RETURN QUERY SELECT v_done.stream_id, v_done.first_version, v_done.last_version, true;
            RETURN;
        END IF;
    END IF;

    SELECT coalesce(max(e.stream_version), 0) INTO v_current
    FROM events e WHERE e.stream_id = p_stream_id;
    IF v_current <> p_expected_version THEN
        RAISE EXCEPTION 'stream % is at version %, expected %', p_stream_id, v_current,
            p_expected_version USING ERRCODE = 'OE409';
    END IF;

    INSERT INTO events (stream_id, stream_version, event_id, event_type, data, metadata)
    SELECT p_stream_id, p_expected_version + e.ordinal, (e.event ->> 'id')::uuid,
           e.event ->> 'type', e.event -> 'data', e.event -> 'metadata'
    FROM jsonb_array_elements(p_events) WITH ORDINALITY AS e(event, ordinal);

    RETURN QUERY SELECT p_stream_id, p_expected_version + 1, p_expected_version + v_count, false;
END
$$;
