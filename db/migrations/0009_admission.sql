-- Admission in one statement (issue 9, window 8). The dispatcher and the sweeper both
-- admit waiting orders, each in a transaction of its own: counting the admitted rows
-- and then admitting let both see the same room and admit it twice, and the rate's
-- token bucket lived in each process's memory. `admit_orders` decides and admits in
-- one call, taking turns on the bucket's row, so INFLIGHT_LIMIT and ORDERS_PER_MINUTE
-- hold across admitters, processes and restarts.

-- The ORDERS_PER_MINUTE token bucket: it refills at per_minute / 60 a second up to a
-- burst of one second's worth (at least one order); 'Infinity' is full.
CREATE TABLE admission_bucket (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    tokens double precision NOT NULL,
    refilled_at timestamptz NOT NULL
);
INSERT INTO admission_bucket (tokens, refilled_at) VALUES ('Infinity', clock_timestamp());

-- Admit up to what both limits leave (0: no limit), oldest waiting first; returns the
-- admitted orders. The row lock on the bucket is held to the caller's commit, so the
-- next admitter counts after this one's admissions are visible (READ COMMITTED takes
-- a new snapshot per statement, after the lock is granted).
CREATE FUNCTION admit_orders(p_inflight_limit integer, p_per_minute integer, p_due_in_ms bigint)
RETURNS TABLE (order_id text, step text, attempt integer)
LANGUAGE plpgsql AS $$
DECLARE
    v_rate double precision := p_per_minute / 60.0;
    v_now timestamptz := clock_timestamp();
    v_tokens double precision := 'Infinity';
    v_room bigint := 1000000;
    v_admitted bigint := 0;
BEGIN
    IF p_inflight_limit > 0 OR p_per_minute > 0 THEN
        SELECT least(greatest(1.0, v_rate),
                     b.tokens + greatest(0, extract(epoch FROM v_now - b.refilled_at)) * v_rate)
            INTO v_tokens FROM admission_bucket AS b FOR UPDATE;
    END IF;
    IF p_inflight_limit > 0 THEN
        v_room := p_inflight_limit - (SELECT count(*) FROM inflight_orders AS i WHERE i.admitted);
    END IF;
    IF p_per_minute > 0 THEN
        v_room := least(v_room, floor(v_tokens)::bigint);
    END IF;
    IF v_room > 0 THEN
        RETURN QUERY
            UPDATE inflight_orders AS i SET admitted = true,
                due_at = now() + make_interval(secs => p_due_in_ms / 1000.0)
            WHERE i.order_id IN (
                SELECT w.order_id FROM inflight_orders AS w WHERE NOT w.admitted
                ORDER BY w.submitted_at LIMIT v_room FOR UPDATE SKIP LOCKED)
            RETURNING i.order_id, i.step, i.attempt;
        GET DIAGNOSTICS v_admitted = ROW_COUNT;
    END IF;
    IF p_per_minute > 0 THEN
        UPDATE admission_bucket SET tokens = v_tokens - v_admitted, refilled_at = v_now;
    END IF;
END $$;
