-- Live-room event streams (append-only) and the rooms dimension table.
CREATE SOURCE IF NOT EXISTS comments (
  room_id bigint      NOT NULL,
  user_id bigint      NOT NULL,
  body    text,
  ts      timestamptz NOT NULL
) WITH (connector = 'http');

CREATE SOURCE IF NOT EXISTS gifts (
  room_id bigint      NOT NULL,
  user_id bigint      NOT NULL,
  gift    text        NOT NULL,
  price   bigint      NOT NULL,  -- in fen (1/100 yuan)
  ts      timestamptz NOT NULL
) WITH (connector = 'http');

CREATE TABLE IF NOT EXISTS rooms (
  room_id   bigint PRIMARY KEY,
  anchor_id bigint NOT NULL,
  category  text
);
