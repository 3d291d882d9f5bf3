-- The signature an order in step follow_order waits on: the confirmation watcher asks
-- the chain about all of them in one request per round, instead of one message and
-- one request per order and look.
ALTER TABLE inflight_orders ADD COLUMN signature text;

-- Orders already waiting when this runs: their rows predate the column, and the
-- watcher only follows rows that name a signature.
UPDATE inflight_orders AS waiting SET signature = (
    SELECT sent.data ->> 'signature' FROM events AS sent
    WHERE sent.stream_id = 'order-' || waiting.order_id
      AND sent.event_type = 'TransactionSent'
      AND (sent.data ->> 'attempt')::int = waiting.attempt
    ORDER BY sent.stream_version DESC LIMIT 1)
WHERE waiting.step = 'follow_order';
