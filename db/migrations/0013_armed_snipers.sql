-- The sniper matcher's read model: every sniper order not final yet, its terms, its
-- arm, the pool it matched and the arm whose buy was fired. Written in the matcher's
-- checkpoint transaction (it also judges each new pool against the unmatched ones
-- there), so it is rebuilt from the log like any projection.
CREATE TABLE armed_snipers (
    order_id text PRIMARY KEY,
    generation integer NOT NULL DEFAULT 0,
    fired_generation integer NOT NULL DEFAULT 0,
    token_in text NOT NULL,
    amount_in numeric NOT NULL,
    expires_at timestamptz NOT NULL,
    delay_slots integer NOT NULL,
    matched_pool text,
    token_out text,
    token_out_decimals integer,
    open_time bigint,
    creation_slot bigint
);

CREATE INDEX armed_snipers_unmatched ON armed_snipers (token_in) WHERE matched_pool IS NULL;
CREATE INDEX armed_snipers_awaiting ON armed_snipers (matched_pool)
    WHERE matched_pool IS NOT NULL AND fired_generation < generation;
CREATE INDEX armed_snipers_expiry ON armed_snipers (expires_at);
