-- The live-room pack, part 4: which rooms are trending?

-- How lively was each room over the last 5 minutes, every 10 seconds? The interaction
-- score of a 5-minute window (sliding by 10 s) is 2 per comment, 1 per like and 10 per
-- gift sent (a combo of 99 roses is one gift sent).
CREATE MATERIALIZED VIEW IF NOT EXISTS room_score_5m AS
  SELECT room_id, window_start, window_end, sum(score)::bigint AS score
  FROM (
    SELECT room_id, window_start, window_end, 2 * count(*) AS score
    FROM HOP(comments, ts, INTERVAL '10 seconds', INTERVAL '5 minutes')
    GROUP BY room_id, window_start, window_end
    UNION ALL
    SELECT room_id, window_start, window_end, count(*) AS score
    FROM HOP(likes, ts, INTERVAL '10 seconds', INTERVAL '5 minutes')
    GROUP BY room_id, window_start, window_end
    UNION ALL
    SELECT room_id, window_start, window_end, 10 * count(*) AS score
    FROM HOP(gifts, ts, INTERVAL '10 seconds', INTERVAL '5 minutes')
    GROUP BY room_id, window_start, window_end
  ) per_stream
  GROUP BY room_id, window_start, window_end;

-- Which 10 rooms are trending right now? The top 10 rooms by interaction score in each
-- 5-minute window; the latest window_end is "now".
CREATE MATERIALIZED VIEW IF NOT EXISTS trending_rooms AS
  SELECT window_start, window_end, rank, room_id, score
  FROM (
    SELECT window_start, window_end, room_id, score,
           row_number() OVER (PARTITION BY window_start ORDER BY score DESC, room_id) AS rank
    FROM room_score_5m
  ) ranked
  WHERE rank <= 10;
