-- The live-room pack, part 7: who is growing?

-- How many new followers does each anchor win, hour by hour?
CREATE MATERIALIZED VIEW IF NOT EXISTS anchor_followers_hourly AS
  SELECT f.anchor_id, a.name AS anchor, f.window_start, f.window_end,
         count(DISTINCT f.user_id) AS new_followers
  FROM TUMBLE(follows, ts, INTERVAL '1 hour') f
  JOIN anchors a ON a.anchor_id = f.anchor_id
  GROUP BY f.anchor_id, a.name, f.window_start, f.window_end;
