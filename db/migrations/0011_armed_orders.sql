-- The trigger evaluator's read model: every limit order not final yet, with its terms,
-- whether it is armed now and for which arm (generation). Written in the evaluator's
-- checkpoint transaction, so it is rebuilt from the log like any projection. Armed
-- orders are indexed per pair and direction by their threshold (the least output per
-- unit of input they accept), so a slot's candidates are one range scan per direction,
-- and by expiry, so a slot's expiries are one range scan.
CREATE TABLE armed_orders (
    order_id text PRIMARY KEY,
    generation integer NOT NULL,
    armed boolean NOT NULL,
    token_in text NOT NULL,
    token_out text NOT NULL,
    amount_in numeric NOT NULL,
    limit_amount_out numeric NOT NULL,
    threshold double precision NOT NULL,
    expires_at timestamptz NOT NULL,
    armed_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX armed_orders_threshold ON armed_orders (token_in, token_out, threshold) WHERE armed;
CREATE INDEX armed_orders_expiry ON armed_orders (expires_at) WHERE armed;
