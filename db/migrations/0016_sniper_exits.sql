-- The exit watcher's read model: every sniper order with exit terms not final yet, its
-- terms, the launched token it bought, its position once bought (tokens, cost, the
-- confirmation slot) and its exit arm (holding: the rules are watched; exiting: the
-- arm's child order sells). Written by the sniper matcher in its checkpoint
-- transaction, so it is rebuilt from the log like any projection. (0015 is left to
-- another branch.)
CREATE TABLE sniper_exits (
    order_id text PRIMARY KEY,
    token_in text NOT NULL,
    take_profit_pct integer,
    stop_loss_pct integer,
    max_hold_slots integer,
    token_out text,
    token_out_decimals integer,
    status text NOT NULL DEFAULT 'waiting',
    generation integer NOT NULL DEFAULT 0,
    tokens numeric,
    cost numeric,
    entry_slot bigint,
    exit_order_id text
);

CREATE INDEX sniper_exits_watched ON sniper_exits (status) WHERE status <> 'waiting';
