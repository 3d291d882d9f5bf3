-- An order the dispatcher stopped following: an event of its stream this engine cannot
-- decode. The sweeper and the confirmation watcher leave its row alone (no endless
-- re-send of the step it waited for), and an operator sees it and why
-- (`orderengine stopped`).
ALTER TABLE inflight_orders ADD COLUMN stopped_reason text;
ALTER TABLE inflight_orders ADD COLUMN stopped_at timestamptz;
