-- name: Metabase: tables
-- check: rows
SELECT "n"."nspname" AS "schema", "c"."relname" AS "name", CASE "c"."relkind" WHEN 'r' THEN 'TABLE' WHEN 'p' THEN 'PARTITIONED TABLE' WHEN 'v' THEN 'VIEW' WHEN 'f' THEN 'FOREIGN TABLE' WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE NULL END AS "type", "d"."description" AS "description", "stat"."n_live_tup" AS "estimated_row_count" FROM "pg_catalog"."pg_class" AS "c" INNER JOIN "pg_catalog"."pg_namespace" AS "n" ON "c"."relnamespace" = "n"."oid" LEFT JOIN "pg_catalog"."pg_description" AS "d" ON ("c"."oid" = "d"."objoid") AND ("d"."objsubid" = 0) AND ("d"."classoid" = 'pg_class'::regclass) LEFT JOIN "pg_stat_user_tables" AS "stat" ON ("n"."nspname" = "stat"."schemaname") AND ("c"."relname" = "stat"."relname") WHERE ("c"."relnamespace" = "n"."oid") AND ("n"."nspname" !~ '^pg_') AND ("n"."nspname" <> 'information_schema') AND c.relkind in ('r', 'p', 'v', 'f', 'm') AND ("n"."nspname" IN ('public')) ORDER BY "type" ASC, "schema" ASC, "name" ASC

-- name: Metabase: materialized view fields
-- check: rows
SELECT "n"."nspname" AS "table-schema", "c"."relname" AS "table-name", "a"."attname" AS "name", "t"."typname" AS "database-type", "a"."attnum" - 1 AS "database-position", FALSE AS "database-required", FALSE AS "database-is-auto-increment" FROM "pg_catalog"."pg_class" AS "c" INNER JOIN "pg_catalog"."pg_namespace" AS "n" ON "n"."oid" = "c"."relnamespace" INNER JOIN "pg_catalog"."pg_attribute" AS "a" ON "a"."attrelid" = "c"."oid" INNER JOIN "pg_catalog"."pg_type" AS "t" ON "t"."oid" = "a"."atttypid" WHERE ("c"."relkind" = 'm') AND ("a"."attnum" >= 1) AND ("n"."nspname" IN ('public')) ORDER BY "table-name", "database-position"

-- name: Metabase: fields (information_schema)
-- check: rows
SELECT c.column_name AS "name", c.udt_name AS "database-type", c.ordinal_position - 1 AS "database-position", c.table_schema AS "table-schema", c.table_name AS "table-name", pk.column_name IS NOT NULL AS "pk?", col_description(format('%I.%I', c.table_schema, c.table_name)::regclass::oid, c.ordinal_position) AS "field-comment", ((column_default IS NULL) OR (lower(column_default) = 'null')) AND (is_nullable = 'NO') AND NOT (((column_default IS NOT NULL) AND (column_default LIKE '%nextval(%')) OR (is_identity <> 'NO')) AS "database-required", ((column_default IS NOT NULL) AND (column_default LIKE '%nextval(%')) OR (is_identity <> 'NO') AS "database-is-auto-increment" FROM information_schema.columns AS c LEFT JOIN (SELECT tc.table_schema, tc.table_name, kc.column_name FROM information_schema.table_constraints AS tc INNER JOIN information_schema.key_column_usage AS kc ON (tc.constraint_name = kc.constraint_name) AND (tc.table_schema = kc.table_schema) AND (tc.table_name = kc.table_name) WHERE tc.constraint_type = 'PRIMARY KEY') AS pk ON (c.table_schema = pk.table_schema) AND (c.table_name = pk.table_name) AND (c.column_name = pk.column_name) WHERE c.table_schema !~ '^information_schema|catalog_history|pg_' AND c.table_name IN ('accounts', 'events') ORDER BY "table-schema", "table-name", "database-position"

-- name: Metabase: foreign keys
-- check: rows
SELECT fk_ns.nspname AS "fk-table-schema", fk_table.relname AS "fk-table-name", fk_column.attname AS "fk-column-name", pk_ns.nspname AS "pk-table-schema", pk_table.relname AS "pk-table-name", pk_column.attname AS "pk-column-name" FROM pg_constraint c JOIN pg_class fk_table ON c.conrelid = fk_table.oid JOIN pg_namespace fk_ns ON c.connamespace = fk_ns.oid JOIN pg_attribute fk_column ON c.conrelid = fk_column.attrelid JOIN pg_class pk_table ON c.confrelid = pk_table.oid JOIN pg_namespace pk_ns ON pk_table.relnamespace = pk_ns.oid JOIN pg_attribute pk_column ON c.confrelid = pk_column.attrelid WHERE fk_ns.nspname !~ '^information_schema|catalog_history|pg_' AND c.contype = 'f'::char AND fk_column.attnum = ANY(c.conkey) AND pk_column.attnum = ANY(c.confkey) ORDER BY fk_ns.nspname, fk_table.relname, fk_column.attname

-- name: Metabase: indexes
-- check: rows
SELECT tmp."table-schema", tmp."table-name", trim(BOTH '"' FROM pg_catalog.pg_get_indexdef(tmp.ci_oid, tmp.pos, false)) AS "field-name" FROM (SELECT n.nspname AS "table-schema", ct.relname AS "table-name", ci.oid AS ci_oid, (i.keys).n AS pos FROM pg_catalog.pg_class AS ct INNER JOIN pg_catalog.pg_namespace AS n ON ct.relnamespace = n.oid INNER JOIN (SELECT i.indexrelid, i.indrelid, i.indisprimary, i.indpred, information_schema._pg_expandarray(i.indkey) AS keys FROM pg_catalog.pg_index AS i) AS i ON ct.oid = i.indrelid INNER JOIN pg_catalog.pg_class AS ci ON ci.oid = i.indexrelid WHERE (pg_catalog.pg_get_expr(i.indpred, i.indrelid) IS NULL) AND n.nspname !~ '^information_schema|catalog_history|pg_') AS tmp WHERE tmp.pos = 1 ORDER BY 2, 3

-- name: Metabase: enums
-- check: rows
SELECT "n"."nspname" AS "schema", "t"."typname" AS "type" FROM "pg_type" AS "t" INNER JOIN "pg_namespace" AS "n" ON "n"."oid" = "t"."typnamespace" WHERE "t"."oid" IN (SELECT DISTINCT "enumtypid" FROM "pg_enum" AS "e")

-- name: Metabase: timezone
-- check: rows
SELECT current_setting('TIMEZONE') AS "timezone"
