-- API keys (API.md, "Keys and ownership"). A key is `oe_<key_id>_<secret>`: `key_id` is
-- public (it finds the row), `key_hash` is HMAC-SHA256 of the whole key under the
-- server's API_KEY_SECRET, so neither this table nor a backup of it can be used as a key.
-- Revoked keys keep their row: a name is never reused, so it names one key forever and
-- can stand for it as the actor (and owner) in event metadata.
CREATE TABLE api_keys (
    name text PRIMARY KEY CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'),
    key_id text NOT NULL UNIQUE,
    key_hash text NOT NULL,
    admin boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz
);

-- An order belongs to the actor of its OrderSubmitted (the key's name). The global log
-- filtered to one owner reads that from the log itself (db/event_store.py: a probe of
-- the (stream_id, stream_version) index per event), never from a projection, so a page
-- can never skip an order the projector has not reached; and no index is added to
-- `events`, whose every append would pay for it.

-- The order list of one owner, newest first, from the read model.
ALTER TABLE order_snapshots ADD COLUMN owner text;
UPDATE order_snapshots s SET owner = e.metadata->>'actor'
    FROM events e WHERE e.stream_id = 'order-' || s.order_id::text AND e.stream_version = 1;
CREATE INDEX order_snapshots_by_owner
    ON order_snapshots (owner, submitted_tx DESC, submitted_position DESC);
