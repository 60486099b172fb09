package db

// The PostgreSQL catalog emulation's DuckDB objects. Every name starts with weir_pg_:
// rewriteCatalog maps a client's pg_catalog names onto them (pg_class → weir_pg_class,
// pg_get_userbyid( → weir_pg_get_userbyid(), so DuckDB's own pg_catalog, whose type OIDs
// are DuckDB's (research §1.6), is never consulted.
//
// Four tables hold what Weir's catalog says (syncCatalog keeps them current): relations,
// their columns, their primary keys and the types. The pg_* views are computed from them
// with PostgreSQL's column names and types; the views psql only needs to exist (policies,
// publications, inheritance, rules, …) are empty.

// catalogTables are (re)created at every Open; syncCatalog fills them.
var catalogTables = []string{
	`CREATE OR REPLACE TABLE weir_pg_rel (oid BIGINT, relname VARCHAR, relkind VARCHAR, relam BIGINT,
		relhasindex BOOLEAN, relnatts SMALLINT, viewdef VARCHAR, weir_kind VARCHAR)`,
	`CREATE OR REPLACE TABLE weir_pg_att (attrelid BIGINT, attname VARCHAR, attnum SMALLINT, atttypid BIGINT,
		atttypmod INTEGER, attnotnull BOOLEAN)`,
	`CREATE OR REPLACE TABLE weir_pg_pkey (indexrelid BIGINT, indrelid BIGINT, conoid BIGINT, conname VARCHAR,
		indnatts SMALLINT, indkey VARCHAR, conkey SMALLINT[], indexdef VARCHAR, constraintdef VARCHAR)`,
	`CREATE OR REPLACE TABLE weir_pg_typ (oid BIGINT, typname VARCHAR, fmt VARCHAR, typlen SMALLINT,
		typcategory VARCHAR, typstorage VARCHAR, typcollation BIGINT, typarray BIGINT, typelem BIGINT)`,
}

// catalogViews and catalogMacros are (re)created at every Open, after catalogTables.
var catalogViews = []string{
	`CREATE OR REPLACE VIEW weir_pg_namespace AS
	SELECT * FROM (VALUES (11::BIGINT, 'pg_catalog', 10::BIGINT, ['weir=UC/weir', '=U/weir']),
		(2200, 'public', 10, ['weir=UC/weir', '=U/weir']), (13000, 'information_schema', 10, ['weir=UC/weir', '=U/weir']))
		t(oid, nspname, nspowner, nspacl)`,

	`CREATE OR REPLACE VIEW weir_pg_class AS
	SELECT oid, relname, 2200::BIGINT AS relnamespace, 0::BIGINT AS reltype, 0::BIGINT AS reloftype,
		10::BIGINT AS relowner, relam, oid AS relfilenode, 0::BIGINT AS reltablespace, 0 AS relpages,
		-1.0::REAL AS reltuples, 0 AS relallvisible, 0::BIGINT AS reltoastrelid, relhasindex,
		false AS relisshared, 'p' AS relpersistence, relkind, relnatts, 0::SMALLINT AS relchecks,
		false AS relhasrules, false AS relhastriggers, false AS relhassubclass, false AS relrowsecurity,
		false AS relforcerowsecurity, true AS relispopulated, CASE WHEN relkind = 'i' THEN 'n' ELSE 'd' END AS relreplident,
		false AS relispartition, 0::BIGINT AS relrewrite, 0::BIGINT AS relfrozenxid, 0::BIGINT AS relminmxid,
		NULL::VARCHAR[] AS relacl, NULL::VARCHAR[] AS reloptions, NULL::VARCHAR AS relpartbound
	FROM weir_pg_rel`,

	`CREATE OR REPLACE VIEW weir_pg_attribute AS
	SELECT a.attrelid, a.attname, a.atttypid, -1::SMALLINT AS attstattarget, t.typlen AS attlen, a.attnum,
		0::INTEGER AS attndims, -1::INTEGER AS attcacheoff, a.atttypmod, t.typlen > 0 AS attbyval,
		CASE WHEN t.typlen = 8 THEN 'd' WHEN t.typlen = 2 THEN 's' WHEN t.typlen = 1 THEN 'c' ELSE 'i' END AS attalign,
		t.typstorage AS attstorage, '' AS attcompression, a.attnotnull, false AS atthasdef, false AS atthasmissing,
		'' AS attidentity, '' AS attgenerated, false AS attisdropped, true AS attislocal, 0 AS attinhcount,
		t.typcollation AS attcollation, NULL::VARCHAR[] AS attacl, NULL::VARCHAR[] AS attoptions,
		NULL::VARCHAR[] AS attfdwoptions, NULL::VARCHAR AS attmissingval
	FROM (SELECT * FROM weir_pg_att
		UNION ALL -- the system columns of every table and materialized view
		SELECT r.oid, s.attname, s.attnum::SMALLINT, s.atttypid, -1, true FROM weir_pg_rel r,
			(VALUES ('tableoid', -6, 26), ('cmax', -5, 29), ('xmax', -4, 28), ('cmin', -3, 29), ('xmin', -2, 28), ('ctid', -1, 27))
			s(attname, attnum, atttypid)
		WHERE r.relkind IN ('r', 'm')) a
	LEFT JOIN weir_pg_typ t ON t.oid = a.atttypid`,

	`CREATE OR REPLACE VIEW weir_pg_type AS
	SELECT oid, typname, 11::BIGINT AS typnamespace, 10::BIGINT AS typowner, typlen, typlen > 0 AS typbyval,
		CASE WHEN typelem <> 0 THEN 'b' ELSE 'b' END AS typtype, typcategory, false AS typispreferred,
		true AS typisdefined, ',' AS typdelim, 0::BIGINT AS typrelid, 0::BIGINT AS typsubscript, typelem, typarray,
		typname || 'in' AS typinput, typname || 'out' AS typoutput, 'i' AS typalign, typstorage,
		false AS typnotnull, 0::BIGINT AS typbasetype, -1 AS typtypmod, 0 AS typndims, typcollation,
		NULL::VARCHAR AS typdefaultbin, NULL::VARCHAR AS typdefault, NULL::VARCHAR[] AS typacl
	FROM weir_pg_typ`,

	`CREATE OR REPLACE VIEW weir_pg_index AS
	SELECT indexrelid, indrelid, indnatts, indnatts AS indnkeyatts, true AS indisunique,
		false AS indnullsnotdistinct, true AS indisprimary,
		false AS indisexclusion, true AS indimmediate, false AS indisclustered, true AS indisvalid,
		false AS indcheckxmin, true AS indisready, true AS indislive, false AS indisreplident,
		indkey, '0' AS indcollation, '0' AS indclass, '0' AS indoption, NULL::VARCHAR AS indexprs, NULL::VARCHAR AS indpred
	FROM weir_pg_pkey`,

	`CREATE OR REPLACE VIEW weir_pg_constraint AS
	SELECT conoid AS oid, conname, 2200::BIGINT AS connamespace, 'p' AS contype, false AS condeferrable,
		false AS condeferred, true AS convalidated, indrelid AS conrelid, 0::BIGINT AS contypid,
		indexrelid AS conindid, 0::BIGINT AS conparentid, 0::BIGINT AS confrelid, ' ' AS confupdtype,
		' ' AS confdeltype, ' ' AS confmatchtype, true AS conislocal, 0 AS coninhcount, true AS connoinherit,
		conkey, NULL::SMALLINT[] AS confkey, NULL::BIGINT[] AS conpfeqop, NULL::BIGINT[] AS conppeqop,
		NULL::BIGINT[] AS conffeqop, NULL::SMALLINT[] AS confdelsetcols, NULL::BIGINT[] AS conexclop, NULL::VARCHAR AS conbin
	FROM weir_pg_pkey`,

	`CREATE OR REPLACE VIEW weir_pg_am AS
	SELECT * FROM (VALUES (2::BIGINT, 'heap', 'heap_tableam_handler', 't'), (403, 'btree', 'bthandler', 'i'))
		t(oid, amname, amhandler, amtype)`,

	`CREATE OR REPLACE VIEW weir_pg_database AS
	SELECT 16384::BIGINT AS oid, 'weir' AS datname, 10::BIGINT AS datdba, 6 AS encoding, 'c' AS datlocprovider,
		false AS datistemplate, true AS datallowconn, -1 AS datconnlimit, 0::BIGINT AS datfrozenxid,
		0::BIGINT AS datminmxid, 1663::BIGINT AS dattablespace, 'C' AS datcollate, 'C' AS datctype,
		NULL::VARCHAR AS daticulocale, NULL::VARCHAR AS datcollversion, NULL::VARCHAR[] AS datacl`,

	// The roles of weir_roles (db/roles.go); superusers hold every attribute.
	`CREATE OR REPLACE VIEW weir_pg_roles AS
	SELECT name AS rolname, superuser AS rolsuper, true AS rolinherit, superuser AS rolcreaterole, superuser AS rolcreatedb,
		login AS rolcanlogin, superuser AS rolreplication, -1 AS rolconnlimit,
		CASE WHEN verifier IS NULL THEN NULL ELSE '********' END AS rolpassword,
		NULL::TIMESTAMPTZ AS rolvaliduntil, superuser AS rolbypassrls, NULL::VARCHAR[] AS rolconfig, oid
	FROM weir_roles`,
	`CREATE OR REPLACE VIEW weir_pg_authid AS SELECT * EXCLUDE (rolpassword), NULL::VARCHAR AS rolpassword FROM weir_pg_roles`,
	`CREATE OR REPLACE VIEW weir_pg_user AS
	SELECT rolname AS usename, oid AS usesysid, rolcreatedb AS usecreatedb, rolsuper AS usesuper,
		rolreplication AS userepl, rolbypassrls AS usebypassrls, rolpassword AS passwd,
		rolvaliduntil AS valuntil, rolconfig AS useconfig FROM weir_pg_roles`,

	`CREATE OR REPLACE VIEW weir_pg_collation AS
	SELECT * FROM (VALUES (100::BIGINT, 'default', 11::BIGINT, 10::BIGINT, 'd', true, -1, NULL::VARCHAR, NULL::VARCHAR),
		(950, 'C', 11, 10, 'c', true, -1, 'C', 'C'), (951, 'POSIX', 11, 10, 'c', true, -1, 'POSIX', 'POSIX'))
		t(oid, collname, collnamespace, collowner, collprovider, collisdeterministic, collencoding, collcollate, collctype)`,

	`CREATE OR REPLACE VIEW weir_pg_tablespace AS
	SELECT * FROM (VALUES (1663::BIGINT, 'pg_default', 10::BIGINT, NULL::VARCHAR[], NULL::VARCHAR[]))
		t(oid, spcname, spcowner, spcacl, spcoptions)`,

	`CREATE OR REPLACE VIEW weir_pg_settings AS
	SELECT name, setting, NULL::VARCHAR AS unit, 'Weir' AS category, '' AS short_desc, NULL::VARCHAR AS extra_desc,
		'user' AS context, 'string' AS vartype, 'default' AS source, NULL::VARCHAR AS min_val, NULL::VARCHAR AS max_val,
		NULL::VARCHAR[] AS enumvals, setting AS boot_val, setting AS reset_val, NULL::VARCHAR AS sourcefile,
		NULL::INTEGER AS sourceline, false AS pending_restart
	FROM weir_pg_settings_t`,

	// Empty catalogs psql's \d family joins or filters on.
	`CREATE OR REPLACE VIEW weir_pg_attrdef AS
	SELECT NULL::BIGINT AS oid, NULL::BIGINT AS adrelid, NULL::SMALLINT AS adnum, NULL::VARCHAR AS adbin LIMIT 0`,
	`CREATE OR REPLACE VIEW weir_pg_policy AS
	SELECT NULL::BIGINT AS oid, NULL::VARCHAR AS polname, NULL::BIGINT AS polrelid, NULL::VARCHAR AS polcmd,
		NULL::BOOLEAN AS polpermissive, NULL::BIGINT[] AS polroles, NULL::VARCHAR AS polqual,
		NULL::VARCHAR AS polwithcheck LIMIT 0`,
	`CREATE OR REPLACE VIEW weir_pg_statistic_ext AS
	SELECT NULL::BIGINT AS oid, NULL::BIGINT AS stxrelid, NULL::VARCHAR AS stxname, NULL::BIGINT AS stxnamespace,
		NULL::BIGINT AS stxowner, NULL::INTEGER AS stxstattarget, NULL::SMALLINT[] AS stxkeys,
		NULL::VARCHAR[] AS stxkind, NULL::VARCHAR AS stxexprs LIMIT 0`,
	`CREATE OR REPLACE VIEW weir_pg_publication AS
	SELECT NULL::BIGINT AS oid, NULL::VARCHAR AS pubname, NULL::BIGINT AS pubowner, NULL::BOOLEAN AS puballtables,
		NULL::BOOLEAN AS pubinsert, NULL::BOOLEAN AS pubupdate, NULL::BOOLEAN AS pubdelete,
		NULL::BOOLEAN AS pubtruncate, NULL::BOOLEAN AS pubviaroot LIMIT 0`,
	`CREATE OR REPLACE VIEW weir_pg_publication_namespace AS
	SELECT NULL::BIGINT AS oid, NULL::BIGINT AS pnpubid, NULL::BIGINT AS pnnspid LIMIT 0`,
	`CREATE OR REPLACE VIEW weir_pg_publication_rel AS
	SELECT NULL::BIGINT AS oid, NULL::BIGINT AS prpubid, NULL::BIGINT AS prrelid, NULL::VARCHAR AS prqual,
		NULL::SMALLINT[] AS prattrs LIMIT 0`,
	`CREATE OR REPLACE VIEW weir_pg_inherits AS
	SELECT NULL::BIGINT AS inhrelid, NULL::BIGINT AS inhparent, NULL::INTEGER AS inhseqno,
		NULL::BOOLEAN AS inhdetachpending LIMIT 0`,
	`CREATE OR REPLACE VIEW weir_pg_rewrite AS
	SELECT NULL::BIGINT AS oid, NULL::VARCHAR AS rulename, NULL::BIGINT AS ev_class, NULL::VARCHAR AS ev_type,
		NULL::VARCHAR AS ev_enabled, NULL::BOOLEAN AS is_instead, NULL::VARCHAR AS ev_qual,
		NULL::VARCHAR AS ev_action LIMIT 0`,
	`CREATE OR REPLACE VIEW weir_pg_trigger AS
	SELECT NULL::BIGINT AS oid, NULL::BIGINT AS tgrelid, NULL::BIGINT AS tgparentid, NULL::VARCHAR AS tgname,
		NULL::BIGINT AS tgfoid, NULL::SMALLINT AS tgtype, NULL::VARCHAR AS tgenabled, NULL::BOOLEAN AS tgisinternal,
		NULL::BIGINT AS tgconstrrelid, NULL::BIGINT AS tgconstrindid, NULL::BIGINT AS tgconstraint LIMIT 0`,
	`CREATE OR REPLACE VIEW weir_pg_description AS
	SELECT NULL::BIGINT AS objoid, NULL::BIGINT AS classoid, NULL::INTEGER AS objsubid,
		NULL::VARCHAR AS description LIMIT 0`,
	`CREATE OR REPLACE VIEW weir_pg_auth_members AS
	SELECT NULL::BIGINT AS roleid, NULL::BIGINT AS member, NULL::BIGINT AS grantor,
		NULL::BOOLEAN AS admin_option LIMIT 0`,
	`CREATE OR REPLACE VIEW weir_pg_extension AS
	SELECT NULL::BIGINT AS oid, NULL::VARCHAR AS extname, NULL::BIGINT AS extowner, NULL::BIGINT AS extnamespace,
		NULL::BOOLEAN AS extrelocatable, NULL::VARCHAR AS extversion LIMIT 0`,

	`CREATE OR REPLACE VIEW weir_pg_enum AS
	SELECT NULL::BIGINT AS oid, NULL::BIGINT AS enumtypid, NULL::REAL AS enumsortorder, NULL::VARCHAR AS enumlabel LIMIT 0`,
	`CREATE OR REPLACE VIEW weir_pg_depend AS
	SELECT NULL::BIGINT AS classid, NULL::BIGINT AS objid, NULL::INTEGER AS objsubid, NULL::BIGINT AS refclassid,
		NULL::BIGINT AS refobjid, NULL::INTEGER AS refobjsubid, NULL::VARCHAR AS deptype LIMIT 0`,
	`CREATE OR REPLACE VIEW weir_pg_sequence AS
	SELECT NULL::BIGINT AS seqrelid, NULL::BIGINT AS seqtypid, NULL::BIGINT AS seqstart, NULL::BIGINT AS seqincrement,
		NULL::BIGINT AS seqmax, NULL::BIGINT AS seqmin, NULL::BIGINT AS seqcache, NULL::BOOLEAN AS seqcycle LIMIT 0`,
	`CREATE OR REPLACE VIEW weir_pg_conversion AS
	SELECT NULL::BIGINT AS oid, NULL::VARCHAR AS conname, NULL::BIGINT AS connamespace, NULL::BIGINT AS conowner,
		NULL::INTEGER AS conforencoding, NULL::INTEGER AS contoencoding, NULL::VARCHAR AS conproc,
		NULL::BOOLEAN AS condefault LIMIT 0`,
	`CREATE OR REPLACE VIEW weir_pg_proc AS
	SELECT NULL::BIGINT AS oid, NULL::VARCHAR AS proname, NULL::BIGINT AS pronamespace, NULL::BIGINT AS proowner,
		NULL::VARCHAR AS prokind, NULL::BOOLEAN AS proretset, NULL::BIGINT AS prorettype, NULL::SMALLINT AS pronargs,
		NULL::VARCHAR AS proargtypes LIMIT 0`,
	`CREATE OR REPLACE VIEW weir_pg_stat_activity AS
	SELECT 16384::BIGINT AS datid, 'weir' AS datname, 0 AS pid, 10::BIGINT AS usesysid, 'weir' AS usename,
		'' AS application_name, NULL::VARCHAR AS client_addr, NULL::TIMESTAMPTZ AS backend_start,
		'active' AS state, NULL::VARCHAR AS query, 'client backend' AS backend_type LIMIT 0`,
	// Row counts: Weir does not keep statistics; n_live_tup is 0 as after a fresh ANALYZE-less load.
	`CREATE OR REPLACE VIEW weir_pg_stat_user_tables AS
	SELECT oid AS relid, 'public' AS schemaname, relname, 0::BIGINT AS seq_scan, 0::BIGINT AS seq_tup_read,
		0::BIGINT AS idx_scan, 0::BIGINT AS idx_tup_fetch, 0::BIGINT AS n_tup_ins, 0::BIGINT AS n_tup_upd,
		0::BIGINT AS n_tup_del, 0::BIGINT AS n_tup_hot_upd, 0::BIGINT AS n_live_tup, 0::BIGINT AS n_dead_tup,
		0::BIGINT AS n_mod_since_analyze, 0::BIGINT AS n_ins_since_vacuum, NULL::TIMESTAMPTZ AS last_vacuum,
		NULL::TIMESTAMPTZ AS last_autovacuum, NULL::TIMESTAMPTZ AS last_analyze, NULL::TIMESTAMPTZ AS last_autoanalyze,
		0::BIGINT AS vacuum_count, 0::BIGINT AS autovacuum_count, 0::BIGINT AS analyze_count, 0::BIGINT AS autoanalyze_count
	FROM weir_pg_rel WHERE relkind IN ('r', 'm')`,
	`CREATE OR REPLACE VIEW weir_pg_statio_user_tables AS
	SELECT oid AS relid, 'public' AS schemaname, relname, 0::BIGINT AS heap_blks_read, 0::BIGINT AS heap_blks_hit
	FROM weir_pg_rel WHERE relkind = 'r'`,

	`CREATE OR REPLACE VIEW weir_pg_matviews AS
	SELECT 'public' AS schemaname, relname AS matviewname, 'weir' AS matviewowner, NULL::VARCHAR AS tablespace,
		false AS hasindexes, true AS ispopulated, ' ' || viewdef || ';' AS definition
	FROM weir_pg_rel WHERE relkind = 'm'`,
	`CREATE OR REPLACE VIEW weir_pg_tables AS
	SELECT 'public' AS schemaname, relname AS tablename, 'weir' AS tableowner, NULL::VARCHAR AS tablespace,
		relhasindex AS hasindexes, false AS hasrules, false AS hastriggers, false AS rowsecurity
	FROM weir_pg_rel WHERE relkind = 'r'`,
	`CREATE OR REPLACE VIEW weir_pg_views AS
	SELECT NULL::VARCHAR AS schemaname, NULL::VARCHAR AS viewname, NULL::VARCHAR AS viewowner,
		NULL::VARCHAR AS definition LIMIT 0`,
}

// infoSchemaViews are information_schema's commonly read views (rewriteCatalog maps
// information_schema.X to weir_is_X). Materialized views are listed as views, so tools
// that browse tables and views find them; PostgreSQL itself leaves them out.
var infoSchemaViews = []string{
	`CREATE OR REPLACE VIEW weir_is_schemata AS
	SELECT 'weir' AS catalog_name, nspname AS schema_name, 'weir' AS schema_owner,
		NULL::VARCHAR AS default_character_set_catalog, NULL::VARCHAR AS default_character_set_schema,
		NULL::VARCHAR AS default_character_set_name, NULL::VARCHAR AS sql_path
	FROM weir_pg_namespace`,
	`CREATE OR REPLACE VIEW weir_is_tables AS
	SELECT 'weir' AS table_catalog, 'public' AS table_schema, relname AS table_name,
		CASE relkind WHEN 'r' THEN 'BASE TABLE' ELSE 'VIEW' END AS table_type,
		NULL::VARCHAR AS self_referencing_column_name, NULL::VARCHAR AS reference_generation,
		NULL::VARCHAR AS user_defined_type_catalog, NULL::VARCHAR AS user_defined_type_schema,
		NULL::VARCHAR AS user_defined_type_name, CASE relkind WHEN 'r' THEN 'YES' ELSE 'NO' END AS is_insertable_into,
		'NO' AS is_typed, NULL::VARCHAR AS commit_action
	FROM weir_pg_rel WHERE relkind IN ('r', 'm')`,
	`CREATE OR REPLACE VIEW weir_is_views AS
	SELECT 'weir' AS table_catalog, 'public' AS table_schema, relname AS table_name,
		' ' || viewdef || ';' AS view_definition, 'NONE' AS check_option, 'NO' AS is_updatable,
		'NO' AS is_insertable_into, 'NO' AS is_trigger_updatable, 'NO' AS is_trigger_deletable,
		'NO' AS is_trigger_insertable_into
	FROM weir_pg_rel WHERE relkind = 'm'`,
	`CREATE OR REPLACE VIEW weir_is_columns AS
	SELECT 'weir' AS table_catalog, 'public' AS table_schema, r.relname AS table_name, a.attname AS column_name,
		a.attnum::INTEGER AS ordinal_position, NULL::VARCHAR AS column_default,
		CASE WHEN a.attnotnull THEN 'NO' ELSE 'YES' END AS is_nullable,
		CASE WHEN t.typcategory = 'A' THEN 'ARRAY' ELSE t.fmt END AS data_type,
		CASE WHEN a.atttypid = 1043 AND a.atttypmod > 4 THEN a.atttypmod - 4 END AS character_maximum_length,
		CASE WHEN a.atttypid IN (25, 1043) THEN 1073741824 END AS character_octet_length,
		CASE a.atttypid WHEN 21 THEN 16 WHEN 23 THEN 32 WHEN 20 THEN 64 WHEN 700 THEN 24 WHEN 701 THEN 53
			WHEN 1700 THEN CASE WHEN a.atttypmod > 4 THEN (a.atttypmod - 4) >> 16 END END AS numeric_precision,
		CASE WHEN a.atttypid IN (21, 23, 20, 700, 701) THEN 2 WHEN a.atttypid = 1700 THEN 10 END AS numeric_precision_radix,
		CASE WHEN a.atttypid IN (21, 23, 20) THEN 0
			WHEN a.atttypid = 1700 AND a.atttypmod > 4 THEN (a.atttypmod - 4) & 65535 END AS numeric_scale,
		CASE WHEN a.atttypid IN (1082) THEN 0 WHEN a.atttypid IN (1114, 1184) THEN 6 END AS datetime_precision,
		NULL::VARCHAR AS interval_type, NULL::INTEGER AS interval_precision,
		NULL::VARCHAR AS character_set_catalog, NULL::VARCHAR AS character_set_schema, NULL::VARCHAR AS character_set_name,
		NULL::VARCHAR AS collation_catalog, NULL::VARCHAR AS collation_schema, NULL::VARCHAR AS collation_name,
		NULL::VARCHAR AS domain_catalog, NULL::VARCHAR AS domain_schema, NULL::VARCHAR AS domain_name,
		'weir' AS udt_catalog, 'pg_catalog' AS udt_schema, t.typname AS udt_name,
		NULL::VARCHAR AS scope_catalog, NULL::VARCHAR AS scope_schema, NULL::VARCHAR AS scope_name,
		NULL::INTEGER AS maximum_cardinality, a.attnum::VARCHAR AS dtd_identifier, 'NO' AS is_self_referencing,
		'NO' AS is_identity, NULL::VARCHAR AS identity_generation, NULL::VARCHAR AS identity_start,
		NULL::VARCHAR AS identity_increment, NULL::VARCHAR AS identity_maximum, NULL::VARCHAR AS identity_minimum,
		NULL::VARCHAR AS identity_cycle, 'NEVER' AS is_generated, NULL::VARCHAR AS generation_expression,
		CASE WHEN r.relkind = 'r' THEN 'YES' ELSE 'NO' END AS is_updatable
	FROM weir_pg_att a JOIN weir_pg_rel r ON r.oid = a.attrelid LEFT JOIN weir_pg_typ t ON t.oid = a.atttypid
	WHERE r.relkind IN ('r', 'm')`,
	`CREATE OR REPLACE VIEW weir_is_table_constraints AS
	SELECT 'weir' AS constraint_catalog, 'public' AS constraint_schema, p.conname AS constraint_name,
		'weir' AS table_catalog, 'public' AS table_schema, r.relname AS table_name, 'PRIMARY KEY' AS constraint_type,
		'NO' AS is_deferrable, 'NO' AS initially_deferred, 'YES' AS enforced, NULL::VARCHAR AS nulls_distinct
	FROM weir_pg_pkey p JOIN weir_pg_rel r ON r.oid = p.indrelid`,
	`CREATE OR REPLACE VIEW weir_is_key_column_usage AS
	SELECT 'weir' AS constraint_catalog, 'public' AS constraint_schema, p.conname AS constraint_name,
		'weir' AS table_catalog, 'public' AS table_schema, r.relname AS table_name, a.attname AS column_name,
		a.attnum::INTEGER AS ordinal_position, NULL::INTEGER AS position_in_unique_constraint
	FROM weir_pg_pkey p JOIN weir_pg_rel r ON r.oid = p.indrelid JOIN weir_pg_att a ON a.attrelid = p.indexrelid`,
}

var catalogMacros = []string{
	`CREATE OR REPLACE MACRO weir_pg_get_userbyid(r) AS CASE WHEN r IS NULL THEN NULL
		ELSE coalesce((SELECT name FROM weir_roles WHERE oid = r), 'unknown (OID=' || r || ')') END`,
	`CREATE OR REPLACE MACRO weir_pg_format_type(t, m) AS CASE
		WHEN t IS NULL THEN NULL
		WHEN t = 1043 AND m > 4 THEN 'character varying(' || (m - 4) || ')'
		WHEN t = 1700 AND m > 4 THEN 'numeric(' || ((m - 4) >> 16) || ',' || ((m - 4) & 65535) || ')'
		ELSE coalesce((SELECT fmt FROM weir_pg_typ WHERE oid = t), '???') END`,
	`CREATE OR REPLACE MACRO weir_pg_get_expr(e, r) AS NULL::VARCHAR, (e, r, p) AS NULL::VARCHAR`,
	`CREATE OR REPLACE MACRO weir_pg_get_viewdef(o) AS (SELECT ' ' || viewdef || ';' FROM weir_pg_rel WHERE oid = o),
		(o, p) AS (SELECT ' ' || viewdef || ';' FROM weir_pg_rel WHERE oid = o)`,
	`CREATE OR REPLACE MACRO weir_pg_get_indexdef(o) AS (SELECT indexdef FROM weir_pg_pkey WHERE indexrelid = o),
		(o, c, p) AS CASE WHEN c = 0 THEN (SELECT indexdef FROM weir_pg_pkey WHERE indexrelid = o)
			ELSE (SELECT attname FROM weir_pg_att WHERE attrelid = o AND attnum = c) END`,
	`CREATE OR REPLACE MACRO weir_pg_get_constraintdef(o) AS (SELECT constraintdef FROM weir_pg_pkey WHERE conoid = o),
		(o, p) AS (SELECT constraintdef FROM weir_pg_pkey WHERE conoid = o)`,
	// Sizes: Weir does not account storage per relation yet.
	`CREATE OR REPLACE MACRO weir_pg_table_size(o) AS 0::BIGINT`,
	`CREATE OR REPLACE MACRO weir_pg_relation_size(o) AS 0::BIGINT, (o, f) AS 0::BIGINT`,
	`CREATE OR REPLACE MACRO weir_pg_total_relation_size(o) AS 0::BIGINT`,
	`CREATE OR REPLACE MACRO weir_pg_database_size(o) AS 0::BIGINT`,
	`CREATE OR REPLACE MACRO weir_pg_size_pretty(b) AS CASE
		WHEN abs(b) < 10240 THEN b || ' bytes'
		WHEN abs(b) < 10240 * 1024 THEN round(b / 1024) || ' kB'
		WHEN abs(b) < 10240 * 1024 * 1024 THEN round(b / 1024 / 1024) || ' MB'
		ELSE round(b / 1024 / 1024 / 1024) || ' GB' END`,
	`CREATE OR REPLACE MACRO weir_pg_encoding_to_char(e) AS CASE WHEN e = 6 THEN 'UTF8' WHEN e = 0 THEN 'SQL_ASCII' ELSE '' END`,
	`CREATE OR REPLACE MACRO weir_pg_relation_is_publishable(o) AS false`,
	`CREATE OR REPLACE MACRO weir_pg_get_statisticsobjdef_columns(o) AS NULL::VARCHAR`,
	`CREATE OR REPLACE MACRO weir_pg_get_ruledef(o) AS NULL::VARCHAR, (o, p) AS NULL::VARCHAR`,
	`CREATE OR REPLACE MACRO weir_pg_array_upper(a, d) AS CASE WHEN len(a) > 0 THEN len(a) END`,
	`CREATE OR REPLACE MACRO weir_pg_col_description(o, n) AS NULL::VARCHAR`,
	`CREATE OR REPLACE MACRO weir_pg_obj_description(o) AS NULL::VARCHAR,
		(o, c) AS CASE WHEN o = 2200 AND c = 'pg_namespace' THEN 'standard public schema'
			WHEN o = 11 AND c = 'pg_namespace' THEN 'system catalog schema' END`,
	`CREATE OR REPLACE MACRO weir_pg_shobj_description(o, c) AS NULL::VARCHAR`,
	`CREATE OR REPLACE MACRO weir_pg_table_is_visible(o) AS true`,
	`CREATE OR REPLACE MACRO weir_pg_type_is_visible(o) AS true`,
	`CREATE OR REPLACE MACRO weir_pg_current_database() AS 'weir'`,
	`CREATE OR REPLACE MACRO weir_pg_current_schema() AS 'public'`,
	`CREATE OR REPLACE MACRO weir_pg_current_schemas(i) AS CASE WHEN i THEN ['pg_catalog', 'public'] ELSE ['public'] END`,
	`CREATE OR REPLACE MACRO weir_pg_backend_pid() AS 0`,
	`CREATE OR REPLACE MACRO weir_pg_quote_ident(s) AS CASE WHEN regexp_full_match(s, '[a-z_][a-z0-9_$]*')
		AND NOT EXISTS (SELECT 1 FROM weir_pg_keywords_t k WHERE k.word = s AND k.catcode <> 'U') THEN s
		ELSE '"' || replace(s, '"', '""') || '"' END`,
	`CREATE OR REPLACE MACRO weir_pg_current_setting(n) AS
		(SELECT setting FROM weir_pg_settings_t WHERE name = lower(n)),
		(n, missing_ok) AS (SELECT setting FROM weir_pg_settings_t WHERE name = lower(n))`,
	// ::regclass and friends (rewriteCatalog): a name (string literal or parameter) becomes
	// its OID; an OID becomes its name, as PostgreSQL prints a regclass.
	`CREATE OR REPLACE MACRO weir_pg_regclass_oid(s) AS
		(SELECT oid FROM weir_pg_rel WHERE relname = regexp_replace(regexp_replace(s, '^(public|pg_catalog)\.', ''), '^"(.*)"$', '\1'))`,
	`CREATE OR REPLACE MACRO weir_pg_regclass_name(o) AS
		coalesce((SELECT relname FROM weir_pg_rel WHERE oid = o), CAST(o AS VARCHAR))`,
	`CREATE OR REPLACE MACRO weir_pg_regtype_oid(s) AS
		(SELECT oid FROM weir_pg_typ WHERE typname = lower(s) OR fmt = lower(s) LIMIT 1)`,
	`CREATE OR REPLACE MACRO weir_pg_regtype_name(o) AS weir_pg_format_type(o, NULL)`,
	`CREATE OR REPLACE MACRO weir_pg_regnamespace_oid(s) AS (SELECT oid FROM weir_pg_namespace WHERE nspname = s)`,
	`CREATE OR REPLACE MACRO weir_pg_regnamespace_name(o) AS
		coalesce((SELECT nspname FROM weir_pg_namespace WHERE oid = o), CAST(o AS VARCHAR))`,
	`CREATE OR REPLACE MACRO weir_pg_regrole_oid(s) AS CASE WHEN s = 'weir' THEN 10 END`,
	`CREATE OR REPLACE MACRO weir_pg_regrole_name(o) AS weir_pg_get_userbyid(o)`,
	`CREATE OR REPLACE MACRO weir_pg_get_keywords() AS TABLE
		SELECT word, catcode, barelabel,
			CASE catcode WHEN 'U' THEN 'unreserved' WHEN 'C' THEN 'unreserved (cannot be function or type name)'
				WHEN 'T' THEN 'reserved (can be function or type name)' ELSE 'reserved' END AS catdesc,
			CASE WHEN barelabel THEN 'can be bare label' ELSE 'requires AS' END AS baredesc
		FROM weir_pg_keywords_t ORDER BY word`,
	`CREATE OR REPLACE MACRO weir_pg_get_partkeydef(o) AS NULL::VARCHAR`,
	`CREATE OR REPLACE MACRO weir_pg_get_serial_sequence(t, c) AS NULL::VARCHAR`,
	`CREATE OR REPLACE MACRO weir_pg_to_regtype(s) AS weir_pg_regtype_oid(s)`,
	`CREATE OR REPLACE MACRO weir_pg_to_regclass(s) AS weir_pg_regclass_oid(s)`,
	`CREATE OR REPLACE MACRO weir_pg_to_regnamespace(s) AS weir_pg_regnamespace_oid(s)`,
	`CREATE OR REPLACE MACRO weir_pg_array_lower(a, d) AS CASE WHEN len(a) > 0 THEN 1 END`,
	`CREATE OR REPLACE MACRO weir_pg_has_table_privilege(a, b) AS true, (a, b, c) AS true`,
	`CREATE OR REPLACE MACRO weir_pg_has_schema_privilege(a, b) AS true, (a, b, c) AS true`,
	`CREATE OR REPLACE MACRO weir_pg_has_database_privilege(a, b) AS true, (a, b, c) AS true`,
	`CREATE OR REPLACE MACRO weir_pg_is_in_recovery() AS false`,
	`CREATE OR REPLACE MACRO weir_pg_postmaster_start_time() AS NULL::TIMESTAMPTZ`,
	`CREATE OR REPLACE MACRO weir_pg_inet_server_addr() AS NULL::VARCHAR`,
	`CREATE OR REPLACE MACRO weir_pg_inet_server_port() AS NULL::INTEGER`,
	`CREATE OR REPLACE MACRO weir_pg_tablespace_location(o) AS ''`,
	// parse_ident splits a qualified name at dots outside double quotes; quoted parts
	// keep their case (with "" undoubled), unquoted ones fold to lower case.
	`CREATE OR REPLACE MACRO weir_pg_parse_ident(s) AS list_transform(
		regexp_extract_all(s, '(?:"(?:[^"]|"")*"|[^."]+)'),
		p -> CASE WHEN p[1] = '"' THEN replace(p[2:-2], '""', '"') ELSE lower(trim(p)) END),
		(s, strict) AS list_transform(
		regexp_extract_all(s, '(?:"(?:[^"]|"")*"|[^."]+)'),
		p -> CASE WHEN p[1] = '"' THEN replace(p[2:-2], '""', '"') ELSE lower(trim(p)) END)`,
	// information_schema._pg_expandarray(int2vector): (x, n) records, unnested by the rewrite.
	`CREATE OR REPLACE MACRO weir_pg_expandarray(v) AS list_transform(
		generate_series(1, len(string_split(trim(v::VARCHAR), ' '))),
		i -> {'x': string_split(trim(v::VARCHAR), ' ')[i]::INTEGER, 'n': i::INTEGER})`,
	// An array constructor that is a result column is printed as PostgreSQL's array text.
	`CREATE OR REPLACE MACRO weir_pg_array_out(a) AS '{' || array_to_string(a, ',') || '}'`,
}
