-- The steps are named for what they do (route_and_send, resend_transaction,
-- settle_attempt); rows written under the old names move with them, so an upgrade
-- keeps following every order in flight.
UPDATE inflight_orders SET step = CASE step
    WHEN 'route_order' THEN 'route_and_send'
    WHEN 'execute_order' THEN 'resend_transaction'
    WHEN 'follow_order' THEN 'settle_attempt'
    ELSE step END
WHERE step IN ('route_order', 'execute_order', 'follow_order');
