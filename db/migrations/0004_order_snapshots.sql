-- The read side (projections/): every order's current snapshot, and the time orders
-- spend in each status. Both are folds of the event log, rebuilt by `orderengine replay`
-- into fresh tables `LIKE` these and swapped in.

-- Amounts are atomic units (numeric: 10^12 tokens of 9 decimals overflow bigint);
-- the API turns them into decimal strings.
CREATE TABLE order_snapshots (
    order_id uuid PRIMARY KEY,
    order_type text NOT NULL,
    status text NOT NULL,
    token_in text NOT NULL,
    token_out text NOT NULL,
    amount_in numeric NOT NULL,
    slippage_bps integer NOT NULL,
    attempts integer NOT NULL,
    quotes jsonb NOT NULL,
    route jsonb NOT NULL,
    chosen_venue text,
    expected_amount_out numeric,
    min_amount_out numeric,
    price_impact text,
    amount_out numeric,
    tx_hash text,
    blockhash text,
    last_valid_block_height bigint,
    slot bigint,
    failure_reason text,
    failure_code text,
    version integer NOT NULL,
    -- Where OrderSubmitted sits in commit order: the keyset of "newest first". The
    -- projector applies the log in commit order, so a new order always sorts above
    -- every page already served and pagination never skips or repeats a row.
    submitted_tx bigint NOT NULL,
    submitted_position bigint NOT NULL,
    status_since timestamptz NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);

CREATE INDEX order_snapshots_newest
    ON order_snapshots (submitted_tx DESC, submitted_position DESC);
CREATE INDEX order_snapshots_by_status
    ON order_snapshots (status, submitted_tx DESC, submitted_position DESC);
CREATE INDEX order_snapshots_by_type
    ON order_snapshots (order_type, submitted_tx DESC, submitted_position DESC);

-- Histogram of how long orders stay in each stage; integer microseconds so a rebuild
-- sums to exactly what the live projector summed, batch boundaries notwithstanding.
CREATE TABLE order_stage_latency (
    stage text NOT NULL,
    bucket integer NOT NULL,
    observations bigint NOT NULL,
    micros_sum bigint NOT NULL,
    PRIMARY KEY (stage, bucket)
);
