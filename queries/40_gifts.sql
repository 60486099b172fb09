-- The live-room pack, part 5: who pays, and who earns?

-- Who are each room's 3 biggest gifters, by coins spent? All time.
CREATE MATERIALIZED VIEW IF NOT EXISTS top_gifters AS
  SELECT room_id, rank, user_id, name, coins
  FROM (
    SELECT g.room_id, g.user_id, u.name, g.coins,
           row_number() OVER (PARTITION BY g.room_id ORDER BY g.coins DESC, g.user_id) AS rank
    FROM (SELECT room_id, user_id, sum(price * count) AS coins FROM gifts GROUP BY room_id, user_id) g
    JOIN users u ON u.user_id = g.user_id
  ) ranked
  WHERE rank <= 3;

-- How much does each anchor earn, hour by hour? Gifts in the anchor's rooms.
CREATE MATERIALIZED VIEW IF NOT EXISTS anchor_revenue_hourly AS
  SELECT r.anchor_id, a.name AS anchor, g.window_start, g.window_end,
         sum(g.price * g.count) AS coins, count(*) AS gifts, count(DISTINCT g.user_id) AS gifters
  FROM TUMBLE(gifts, ts, INTERVAL '1 hour') g
  JOIN rooms r ON r.room_id = g.room_id
  JOIN anchors a ON a.anchor_id = r.anchor_id
  GROUP BY r.anchor_id, a.name, g.window_start, g.window_end;

-- Which categories lead? Coins, gifters and gifting rooms per room category (a room
-- changing category moves its revenue).
CREATE MATERIALIZED VIEW IF NOT EXISTS category_leaderboard AS
  SELECT r.category, sum(g.price * g.count) AS coins, count(DISTINCT g.user_id) AS gifters,
         count(DISTINCT g.room_id) AS rooms
  FROM gifts g
  JOIN rooms r ON r.room_id = g.room_id
  GROUP BY r.category;
