-- The live-room pack, part 1: dimension tables. Keyed and mutable; `weir gen` fills
-- them when it starts (INSERT … ON CONFLICT DO UPDATE), and changes to them flow into
-- every view that joins them.

-- Anchors are the streamers who host rooms.
CREATE TABLE IF NOT EXISTS anchors (
  anchor_id bigint PRIMARY KEY,
  name      text   NOT NULL,
  agency    text
);

-- A room is one anchor's channel, in one category.
CREATE TABLE IF NOT EXISTS rooms (
  room_id   bigint PRIMARY KEY,
  anchor_id bigint NOT NULL,
  category  text   NOT NULL,
  title     text
);

-- Viewers: every comment, like, gift, follow and enter/leave names one.
CREATE TABLE IF NOT EXISTS users (
  user_id bigint  PRIMARY KEY,
  name    text    NOT NULL,
  level   integer NOT NULL,
  region  text
);
