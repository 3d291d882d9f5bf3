-- The sniper verdicts of a pool (`PoolMatched`, `PoolSkipped` on the orders' streams),
-- found by the pool they judged: `GET /api/launches` lists, under each recent launch,
-- the snipers it matched and those it skipped, read straight from the log through
-- this index (projections/launch_queries.py) instead of a scan of every event.
CREATE INDEX events_sniper_verdicts_by_pool ON events ((data->>'pool'), global_position)
    WHERE event_type IN ('PoolMatched', 'PoolSkipped');
