-- Many appends in one round trip and one commit (DESIGN.md: appends are short and
-- never silently merged). Each append runs in its own exception block, so a conflict
-- refuses that append alone and the others still commit; the block is a
-- subtransaction, which is why callers keep batches under 64 appends (the per-backend
-- cache of subtransaction ids; beyond it every snapshot in the cluster gets slower).
-- The events of one batch share one tx_id and keep global_position order, so the
-- global log's commit order is unchanged.
CREATE FUNCTION append_events_batch(p_appends jsonb)
RETURNS TABLE (
    ordinal integer,
    stream_id text,
    first_version bigint,
    last_version bigint,
    duplicate boolean,
    error_code text,
    error_message text,
    error_detail text
)
LANGUAGE plpgsql AS $$
DECLARE
    v_append jsonb;
    v_done record;
BEGIN
    ordinal := 0;
    FOR v_append IN SELECT value FROM jsonb_array_elements(p_appends) LOOP
        ordinal := ordinal + 1;
        stream_id := v_append ->> 'stream';
        first_version := NULL; last_version := NULL; duplicate := NULL;
        error_code := NULL; error_message := NULL; error_detail := NULL;
        BEGIN
            SELECT * INTO v_done FROM append_events(
                v_append ->> 'stream', (v_append ->> 'expected')::bigint,
                v_append ->> 'command', v_append ->> 'hash', v_append -> 'events');
            stream_id := v_done.stream_id;
            first_version := v_done.first_version;
            last_version := v_done.last_version;
            duplicate := v_done.duplicate;
        EXCEPTION WHEN SQLSTATE 'OE409' OR SQLSTATE 'OE422' OR unique_violation THEN
            GET STACKED DIAGNOSTICS error_code = RETURNED_SQLSTATE,
                error_message = MESSAGE_TEXT, error_detail = PG_EXCEPTION_DETAIL;
        END;
        RETURN NEXT;
    END LOOP;
END
$$;
