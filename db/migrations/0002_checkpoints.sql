-- Where each checkpointed consumer (projector, dispatcher) has read up to. Written in
-- the same transaction as the consumer's effect, so effect and position never disagree.
CREATE TABLE checkpoints (
    consumer text PRIMARY KEY,
    tx_id xid8 NOT NULL,
    global_position bigint NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
