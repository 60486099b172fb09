-- The live-room pack, part 3: how busy is each room?

-- Which rooms have the most comments, and from how many people? All time.
CREATE MATERIALIZED VIEW IF NOT EXISTS room_activity AS
  SELECT room_id, count(*) AS comments, count(DISTINCT user_id) AS commenters
  FROM comments
  GROUP BY room_id;

-- How many comments and likes did each room get, minute by minute?
CREATE MATERIALIZED VIEW IF NOT EXISTS room_minute AS
  SELECT room_id, window_start, window_end,
         sum(comments)::bigint AS comments, sum(likes)::bigint AS likes
  FROM (
    SELECT room_id, window_start, window_end, count(*) AS comments, 0 AS likes
    FROM TUMBLE(comments, ts, INTERVAL '1 minute')
    GROUP BY room_id, window_start, window_end
    UNION ALL
    SELECT room_id, window_start, window_end, 0 AS comments, count(*) AS likes
    FROM TUMBLE(likes, ts, INTERVAL '1 minute')
    GROUP BY room_id, window_start, window_end
  ) per_stream
  GROUP BY room_id, window_start, window_end;

-- Who is flooding the chat? Users with more than 20 comments in a 10-second window.
CREATE MATERIALIZED VIEW IF NOT EXISTS comment_floods AS
  SELECT user_id, window_start, window_end, count(*) AS comments,
         count(DISTINCT room_id) AS rooms
  FROM TUMBLE(comments, ts, INTERVAL '10 seconds')
  GROUP BY user_id, window_start, window_end
  HAVING count(*) > 20;
