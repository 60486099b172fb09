-- The live-room pack, part 6: who is watching?

-- How many viewers are in each room right now? Every enter counts +1, every leave -1.
CREATE MATERIALIZED VIEW IF NOT EXISTS concurrent_viewers AS
  SELECT room_id, sum(CASE WHEN action = 'enter' THEN 1 ELSE -1 END) AS viewers
  FROM viewer_events
  GROUP BY room_id;

-- How many viewers were active in each room in the last minute (entered, commented,
-- liked or sent a gift)? A temporal filter: rows leave as the clock passes them.
CREATE MATERIALIZED VIEW IF NOT EXISTS active_viewers AS
  SELECT room_id, count(DISTINCT user_id) AS active_viewers
  FROM (
    SELECT room_id, user_id, ts FROM viewer_events WHERE action = 'enter'
    UNION ALL
    SELECT room_id, user_id, ts FROM comments
    UNION ALL
    SELECT room_id, user_id, ts FROM likes
    UNION ALL
    SELECT room_id, user_id, ts FROM gifts
  ) activity
  WHERE ts > now() - INTERVAL '1 minute'
  GROUP BY room_id;
