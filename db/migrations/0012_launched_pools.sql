-- Every pool launch the pool watcher recorded (`PoolLaunched`, one stream per pool),
-- folded by the launched-pools projection in its checkpoint transaction, so it is
-- rebuilt from the log like any projection. The watcher starts each look after the
-- newest creation here (its checkpoint on the chain); sniper orders match against it.
CREATE TABLE launched_pools (
    pool text PRIMARY KEY,
    venue text NOT NULL,
    kind text NOT NULL,
    base_mint text NOT NULL,
    quote_mint text NOT NULL,
    creator text NOT NULL,
    base_reserve numeric NOT NULL,
    quote_reserve numeric NOT NULL,
    base_decimals integer NOT NULL,
    open_time bigint NOT NULL,
    slot bigint NOT NULL,
    signature text NOT NULL,
    mint_authority text,
    freeze_authority text,
    lp_burned_pct integer NOT NULL,
    top_holder_pct integer NOT NULL,
    seen_slot bigint NOT NULL,
    -- The event's place in the log: the watcher appends creations oldest first, one
    -- at a time, so the newest by (slot, position) has every older one before it.
    position bigint NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX launched_pools_newest ON launched_pools (slot, position);
