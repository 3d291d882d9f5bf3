-- The dispatcher's read model: every order not final yet, the step it waits for, and
-- when that step is overdue (its message presumably lost). Written in the dispatcher's
-- checkpoint transaction; the sweeper re-sends overdue steps. Orders not admitted yet
-- wait here for the in-flight limit or the rate limit.
CREATE TABLE inflight_orders (
    order_id text PRIMARY KEY,
    step text NOT NULL,
    attempt integer NOT NULL,
    admitted boolean NOT NULL,
    due_at timestamptz NOT NULL,
    resends integer NOT NULL DEFAULT 0,
    submitted_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX inflight_orders_due ON inflight_orders (due_at) WHERE admitted;
CREATE INDEX inflight_orders_waiting ON inflight_orders (submitted_at) WHERE NOT admitted;
