-- name: Grafana: version
-- check: rows
SELECT current_setting('server_version_num')::int/100 as version

-- name: Grafana: TimescaleDB check
-- check: rows
SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'

-- name: Grafana: tables
-- check: rows
select quote_ident(table_name) as "table" from information_schema.tables
    where quote_ident(table_schema) not in ('information_schema',
                             'pg_catalog',
                             '_timescaledb_cache',
                             '_timescaledb_catalog',
                             '_timescaledb_internal',
                             '_timescaledb_config',
                             'timescaledb_information',
                             'timescaledb_experimental')
      and table_type = 'BASE TABLE' and quote_ident(table_schema) IN (
      SELECT
        CASE WHEN trim(s[i]) = '"$user"' THEN user ELSE trim(s[i]) END
      FROM
        generate_series(
          array_lower(string_to_array(current_setting('search_path'),','),1),
          array_upper(string_to_array(current_setting('search_path'),','),1)
        ) as i,
        string_to_array(current_setting('search_path'),',') s
      )
    order by 1

-- name: Grafana: columns (parse_ident)
-- check: rows
SELECT quote_ident(column_name) AS "column", data_type AS "type" FROM information_schema.columns WHERE
  CASE WHEN array_length(parse_ident('public.accounts'),1) = 2
    THEN quote_ident(table_schema) = (parse_ident('public.accounts'))[1]
     AND quote_ident(table_name) = (parse_ident('public.accounts'))[2]
    ELSE quote_ident(table_name) = 'public.accounts'
  END
ORDER BY ordinal_position

-- name: Grafana: parse_ident and quote_ident
-- check: rows
SELECT parse_ident('"SomeSchema".someTable'), parse_ident('a.b.c')::text, quote_ident('Mixed Case'), quote_ident('plain'), quote_ident('select')
