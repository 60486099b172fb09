-- The live-room pack, part 2: the event streams. Append-only; events arrive over HTTP
-- (POST /v1/sources/{name}/events), COPY or INSERT. Every stream carries its event time
-- with a 5-second watermark delay: an event may arrive up to 5 s out of order and still
-- count in every window; one further behind is late (weir_late_events).

-- Danmaku: the comments that scroll across the video.
CREATE SOURCE IF NOT EXISTS comments (
  room_id bigint      NOT NULL,
  user_id bigint      NOT NULL,
  body    text        NOT NULL,
  ts      timestamptz NOT NULL,
  WATERMARK FOR ts AS ts - INTERVAL '5 seconds'
) WITH (connector = 'http');

-- One row per tap on the heart.
CREATE SOURCE IF NOT EXISTS likes (
  room_id bigint      NOT NULL,
  user_id bigint      NOT NULL,
  ts      timestamptz NOT NULL,
  WATERMARK FOR ts AS ts - INTERVAL '5 seconds'
) WITH (connector = 'http');

-- Gifts: `count` gifts of one kind, each worth `price` coins (10 coins = 1 yuan).
CREATE SOURCE IF NOT EXISTS gifts (
  room_id bigint      NOT NULL,
  user_id bigint      NOT NULL,
  gift    text        NOT NULL,
  price   integer     NOT NULL,
  count   integer     NOT NULL,
  ts      timestamptz NOT NULL,
  WATERMARK FOR ts AS ts - INTERVAL '5 seconds'
) WITH (connector = 'http');

-- A viewer entering or leaving a room: action is 'enter' or 'leave'.
CREATE SOURCE IF NOT EXISTS viewer_events (
  room_id bigint      NOT NULL,
  user_id bigint      NOT NULL,
  action  text        NOT NULL,
  ts      timestamptz NOT NULL,
  WATERMARK FOR ts AS ts - INTERVAL '5 seconds'
) WITH (connector = 'http');

-- A viewer following an anchor, from the anchor's room.
CREATE SOURCE IF NOT EXISTS follows (
  anchor_id bigint      NOT NULL,
  user_id   bigint      NOT NULL,
  room_id   bigint      NOT NULL,
  ts        timestamptz NOT NULL,
  WATERMARK FOR ts AS ts - INTERVAL '5 seconds'
) WITH (connector = 'http');
