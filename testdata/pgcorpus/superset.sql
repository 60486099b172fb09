-- name: SQLAlchemy: server version
-- check: columns
select pg_catalog.version()

-- name: SQLAlchemy: current schema
-- check: rows
select current_schema()

-- name: SQLAlchemy: has_table
-- check: rows
select relname from pg_class c join pg_namespace n on n.oid=c.relnamespace where pg_catalog.pg_table_is_visible(c.oid) and relname='accounts'

-- name: SQLAlchemy: get_table_names
-- check: rows
SELECT c.relname FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind in ('r', 'p') ORDER BY c.relname

-- name: SQLAlchemy: get_view_names (materialized)
-- check: rows
SELECT c.relname FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind IN ('m')

-- name: SQLAlchemy: get_table_oid
-- check: count
SELECT c.oid FROM pg_catalog.pg_class c LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE (pg_catalog.pg_table_is_visible(c.oid)) AND c.relname = 'accounts' AND c.relkind in ('r', 'v', 'm', 'f', 'p')

-- name: SQLAlchemy: get_columns
-- check: rows
SELECT a.attname,
  pg_catalog.format_type(a.atttypid, a.atttypmod),
  (
    SELECT pg_catalog.pg_get_expr(d.adbin, d.adrelid)
    FROM pg_catalog.pg_attrdef d
    WHERE d.adrelid = a.attrelid AND d.adnum = a.attnum
    AND a.atthasdef
  ) AS DEFAULT,
  a.attnotnull,
  pgd.description as comment,
  a.attgenerated as generated,
  (SELECT json_build_object(
      'always', a.attidentity = 'a',
      'start', s.seqstart,
      'increment', s.seqincrement,
      'minvalue', s.seqmin,
      'maxvalue', s.seqmax,
      'cache', s.seqcache,
      'cycle', s.seqcycle)
   FROM pg_catalog.pg_sequence s
   JOIN pg_catalog.pg_class c on s.seqrelid = c."oid"
   WHERE c.relkind = 'S'
   AND a.attidentity != ''
   AND s.seqrelid = pg_catalog.pg_get_serial_sequence(
     a.attrelid::regclass::text, a.attname
    )::regclass::oid
   ) as identity_options
FROM pg_catalog.pg_attribute a
LEFT JOIN pg_catalog.pg_description pgd ON (
  pgd.objoid = a.attrelid AND pgd.objsubid = a.attnum)
WHERE a.attrelid = 'accounts'::regclass
AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum

-- name: SQLAlchemy: get_pk_constraint
-- check: rows
SELECT a.attname, t.conname FROM pg_catalog.pg_constraint t JOIN pg_catalog.pg_attribute a ON t.conrelid = a.attrelid AND a.attnum = ANY(t.conkey) WHERE t.conrelid = 'accounts'::regclass AND t.contype = 'p' ORDER BY a.attnum
