-- How busy is each room? Comments and distinct commenters, all time.
CREATE MATERIALIZED VIEW IF NOT EXISTS room_activity AS
  SELECT room_id, count(*) AS comments, count(DISTINCT user_id) AS commenters
  FROM comments
  GROUP BY room_id;

-- Which rooms earn the most? Gift revenue, gift count and the biggest single gift per room.
CREATE MATERIALIZED VIEW IF NOT EXISTS room_revenue AS
  SELECT room_id, sum(price) AS revenue, count(*) AS gifts, max(price) AS biggest_gift
  FROM gifts
  GROUP BY room_id;

-- Which categories earn the most? Gifts joined with the rooms table (changes to a
-- room's category move its revenue between categories).
CREATE MATERIALIZED VIEW IF NOT EXISTS category_revenue AS
  SELECT r.category, sum(g.price) AS revenue, count(DISTINCT g.user_id) AS gifters
  FROM gifts g JOIN rooms r ON g.room_id = r.room_id
  GROUP BY r.category;
