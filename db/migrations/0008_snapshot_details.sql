-- The snapshot fields without a column of their own (limit terms, the trigger that
-- fired, the priority fee, ...), as one JSON object: adding an order type adds keys,
-- not columns. Orders projected before this migration have none of them (NULL).
ALTER TABLE order_snapshots ADD COLUMN details jsonb;
