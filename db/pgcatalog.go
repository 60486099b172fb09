package db

import (
	"context"
	"fmt"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"sync"

	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/weirdb/weir/catalog"
	"github.com/weirdb/weir/internal/sqlerr"
)

// The PostgreSQL catalog emulation (issue #6, research §1). psql's \d family, drivers and
// BI tools read pg_catalog; DuckDB's own pg_catalog lacks most of what they need and
// carries DuckDB's type ids where PostgreSQL OIDs belong (research §1.6). So Weir keeps its
// own: DuckDB tables mirroring Weir's catalog (weir_pg_rel, weir_pg_att, weir_pg_pkey,
// weir_pg_typ), PostgreSQL-shaped views over them (weir_pg_class, weir_pg_attribute, …)
// and macros for the functions (weir_pg_format_type, …), all in pgcatalog_sql.go. A
// client's read is rewritten on the PostgreSQL scanner's tokens (rewriteCatalog) to name
// those objects.
//
// OIDs: a relation with catalog ID n has OID relOID(n); its primary key index and the
// constraint have the next two OIDs. Sources and tables are relkind 'r', materialized
// views 'm', all in schema public (OID 2200), owned by role OID 10.

// pgCatalog is the emulation's mutable state.
type pgCatalog struct {
	mu     sync.Mutex // serializes syncCatalog
	synced string     // fingerprint of the catalog the tables reflect
	done   bool       // synced is valid

	colsMu sync.Mutex
	cols   map[string][]string // the emulation's relations' columns, in order (catalogColumns)
}

// catalogColumns returns the columns of the emulation's relation name (weir_pg_class …)
// in order, for typing what a star over it returns; nil when DuckDB does not know it.
// They are fixed for the life of the binary (installCatalog), so they are read once.
func (d *DB) catalogColumns(ctx context.Context, name string) []string {
	pc := &d.pgcat
	pc.colsMu.Lock()
	defer pc.colsMu.Unlock()
	if cols, ok := pc.cols[name]; ok {
		return cols
	}
	rows, err := d.store.DB().QueryContext(ctx, `SELECT column_name FROM duckdb_columns() WHERE schema_name = 'main' AND table_name = ? ORDER BY column_index`, name)
	if err != nil {
		return nil
	}
	defer rows.Close()
	var cols []string
	for rows.Next() {
		var c string
		if rows.Scan(&c) != nil {
			return nil
		}
		cols = append(cols, c)
	}
	if rows.Err() != nil {
		return nil
	}
	if pc.cols == nil {
		pc.cols = map[string][]string{}
	}
	pc.cols[name] = cols
	return cols
}

// catalogColumnOIDs are the catalog relations' columns of the types DuckDB lacks: name
// (19), oid (26), "char" (18), xid (28), pg_node_tree (194) and aclitem[] (1034). A read passing one through
// to the client reports that type, as PostgreSQL does (see passThrough); the values are
// DuckDB's VARCHAR, integers and lists.
var catalogColumnOIDs = map[string]map[string]uint32{
	"pg_class": {"oid": 26, "relname": 19, "relnamespace": 26, "reltype": 26, "reloftype": 26, "relowner": 26,
		"relam": 26, "relfilenode": 26, "reltablespace": 26, "reltoastrelid": 26, "relrewrite": 26, "relkind": 18,
		"relpersistence": 18, "relreplident": 18, "relfrozenxid": 28, "relminmxid": 28, "relacl": 1034, "relpartbound": 194},
	"pg_namespace": {"oid": 26, "nspname": 19, "nspowner": 26, "nspacl": 1034},
	"pg_attribute": {"attrelid": 26, "attname": 19, "atttypid": 26, "attcollation": 26, "attalign": 18, "attstorage": 18,
		"attcompression": 18, "attidentity": 18, "attgenerated": 18, "attacl": 1034},
	"pg_type": {"oid": 26, "typname": 19, "typnamespace": 26, "typowner": 26, "typrelid": 26, "typelem": 26,
		"typarray": 26, "typbasetype": 26, "typcollation": 26, "typtype": 18, "typcategory": 18, "typdelim": 18,
		"typalign": 18, "typstorage": 18, "typacl": 1034},
	"pg_index": {"indexrelid": 26, "indrelid": 26, "indexprs": 194, "indpred": 194},
	"pg_constraint": {"oid": 26, "conname": 19, "connamespace": 26, "conrelid": 26, "contypid": 26, "conindid": 26,
		"conparentid": 26, "confrelid": 26, "contype": 18, "confupdtype": 18, "confdeltype": 18, "confmatchtype": 18},
	"pg_am":          {"oid": 26, "amname": 19, "amtype": 18},
	"pg_database":    {"oid": 26, "datname": 19, "datdba": 26, "dattablespace": 26, "datlocprovider": 18, "datfrozenxid": 28, "datminmxid": 28, "datacl": 1034},
	"pg_roles":       {"oid": 26, "rolname": 19},
	"pg_authid":      {"oid": 26, "rolname": 19},
	"pg_user":        {"usename": 19, "usesysid": 26},
	"pg_collation":   {"oid": 26, "collname": 19, "collnamespace": 26, "collowner": 26, "collprovider": 18},
	"pg_tablespace":  {"oid": 26, "spcname": 19, "spcowner": 26, "spcacl": 1034},
	"pg_attrdef":     {"oid": 26, "adrelid": 26},
	"pg_policy":      {"oid": 26, "polname": 19, "polrelid": 26, "polcmd": 18},
	"pg_inherits":    {"inhrelid": 26, "inhparent": 26},
	"pg_rewrite":     {"oid": 26, "rulename": 19, "ev_class": 26, "ev_type": 18, "ev_enabled": 18},
	"pg_trigger":     {"oid": 26, "tgrelid": 26, "tgname": 19, "tgenabled": 18},
	"pg_description": {"objoid": 26, "classoid": 26},
	"pg_extension":   {"oid": 26, "extname": 19, "extowner": 26, "extnamespace": 26},
	"pg_enum":        {"oid": 26, "enumtypid": 26, "enumlabel": 19},
	"pg_depend":      {"classid": 26, "objid": 26, "refclassid": 26, "refobjid": 26, "deptype": 18},
	"pg_proc": {"oid": 26, "proname": 19, "pronamespace": 26, "proowner": 26, "prolang": 26, "prorettype": 26,
		"prokind": 18, "provolatile": 18, "proparallel": 18, "proacl": 1034},
	"pg_stat_activity":      {"datid": 26, "datname": 19, "usesysid": 26, "usename": 19},
	"pg_stat_user_tables":   {"relid": 26, "schemaname": 19, "relname": 19},
	"pg_statio_user_tables": {"relid": 26, "schemaname": 19, "relname": 19},
	"pg_matviews":           {"schemaname": 19, "matviewname": 19, "matviewowner": 19, "tablespace": 19},
	"pg_tables":             {"schemaname": 19, "tablename": 19, "tableowner": 19, "tablespace": 19},
	"pg_views":              {"schemaname": 19, "viewname": 19, "viewowner": 19},
	"pg_sequence":           {"seqrelid": 26, "seqtypid": 26},
	"pg_conversion":         {"oid": 26, "conname": 19},
	"pg_publication":        {"oid": 26, "pubname": 19},
}

func (d *DB) pgCatalog() *pgCatalog { return &d.pgcat }

func relOID(id uint64) int64 { return 16384 + 4*int64(id) }

// ServerVersionText is what version() returns: PostgreSQL's format (drivers and tools
// parse the "PostgreSQL 15.0" prefix) with Weir named.
var ServerVersionText = fmt.Sprintf("PostgreSQL %s (Weir) on %s, compiled by %s, 64-bit", ServerVersion, platform(), runtime.Version())

func platform() string {
	arch := runtime.GOARCH
	switch arch {
	case "amd64":
		arch = "x86_64"
	case "arm64":
		arch = "aarch64"
	}
	return arch + "-pc-" + runtime.GOOS + "-gnu"
}

// pgTypes are the rows of pg_type: Weir's column types and the catalog's own.
var pgTypes = []struct {
	oid             uint32
	name, fmt       string
	size            int16
	category, store string
	coll            int64
	array, elem     uint32
}{
	{16, "bool", "boolean", 1, "B", "p", 0, 1000, 0},
	{17, "bytea", "bytea", -1, "U", "x", 0, 1001, 0},
	{18, "char", `"char"`, 1, "Z", "p", 0, 1002, 0},
	{19, "name", "name", 64, "S", "p", 950, 1003, 0},
	{20, "int8", "bigint", 8, "N", "p", 0, 1016, 0},
	{21, "int2", "smallint", 2, "N", "p", 0, 1005, 0},
	{23, "int4", "integer", 4, "N", "p", 0, 1007, 0},
	{25, "text", "text", -1, "S", "x", 100, 1009, 0},
	{26, "oid", "oid", 4, "N", "p", 0, 1028, 0},
	{27, "tid", "tid", 6, "U", "p", 0, 1010, 0},
	{28, "xid", "xid", 4, "U", "p", 0, 1011, 0},
	{29, "cid", "cid", 4, "U", "p", 0, 1012, 0},
	{114, "json", "json", -1, "U", "x", 0, 199, 0},
	{700, "float4", "real", 4, "N", "p", 0, 1021, 0},
	{701, "float8", "double precision", 8, "N", "p", 0, 1022, 0},
	{705, "unknown", "unknown", -2, "X", "p", 0, 0, 0},
	{1000, "_bool", "boolean[]", -1, "A", "x", 0, 0, 16},
	{1005, "_int2", "smallint[]", -1, "A", "x", 0, 0, 21},
	{1007, "_int4", "integer[]", -1, "A", "x", 0, 0, 23},
	{1009, "_text", "text[]", -1, "A", "x", 100, 0, 25},
	{1016, "_int8", "bigint[]", -1, "A", "x", 0, 0, 20},
	{1043, "varchar", "character varying", -1, "S", "x", 100, 1015, 0},
	{1082, "date", "date", 4, "D", "p", 0, 1182, 0},
	{1083, "time", "time without time zone", 8, "D", "p", 0, 1183, 0},
	{1114, "timestamp", "timestamp without time zone", 8, "D", "p", 0, 1115, 0},
	{1184, "timestamptz", "timestamp with time zone", 8, "D", "p", 0, 1185, 0},
	{1186, "interval", "interval", 16, "T", "p", 0, 1187, 0},
	{1700, "numeric", "numeric", -1, "N", "m", 0, 1231, 0},
	{2205, "regclass", "regclass", 4, "N", "p", 0, 2210, 0},
	{2206, "regtype", "regtype", 4, "N", "p", 0, 2211, 0},
	{2950, "uuid", "uuid", 16, "U", "p", 0, 2951, 0},
	{3802, "jsonb", "jsonb", -1, "U", "x", 0, 3807, 0},
	{4089, "regnamespace", "regnamespace", 4, "N", "p", 0, 4090, 0},
}

// installCatalog creates the PostgreSQL catalog emulation in DuckDB and fills it from
// Weir's catalog. It runs at every Open, so the objects always match this binary.
func (d *DB) installCatalog(ctx context.Context) error {
	if err := d.installRoles(ctx); err != nil { // roles.go: pg_roles reads them
		return err
	}
	conn := d.store.DB()
	stmts := append([]string{}, catalogTables...)
	stmts = append(stmts, `CREATE OR REPLACE TABLE weir_pg_settings_t (name VARCHAR, setting VARCHAR)`)
	stmts = append(stmts, `CREATE OR REPLACE TABLE weir_pg_keywords_t (word VARCHAR, catcode VARCHAR, barelabel BOOLEAN)`)
	stmts = append(stmts, catalogViews...)
	stmts = append(stmts, infoSchemaViews...)
	stmts = append(stmts, catalogMacros...)
	stmts = append(stmts, `CREATE OR REPLACE MACRO weir_pg_version() AS `+sqlString(ServerVersionText))
	var vals []string
	for _, t := range pgTypes {
		vals = append(vals, fmt.Sprintf("(%d, %s, %s, %d, '%s', '%s', %d, %d, %d)",
			t.oid, sqlString(t.name), sqlString(t.fmt), t.size, t.category, t.store, t.coll, t.array, t.elem))
	}
	stmts = append(stmts, `INSERT INTO weir_pg_typ VALUES `+strings.Join(vals, ", "))
	vals = vals[:0]
	for _, s := range defaultSettings {
		vals = append(vals, "("+sqlString(s.name)+", "+sqlString(s.value)+")")
	}
	stmts = append(stmts, `INSERT INTO weir_pg_settings_t VALUES `+strings.Join(vals, ", "))
	vals = vals[:0]
	for _, line := range strings.Fields(strings.ReplaceAll(pgKeywords, " ", ":")) {
		word, code, _ := strings.Cut(line, ":")
		vals = append(vals, fmt.Sprintf("(%s, '%c', %t)", sqlString(word), code[0], code[1] == 'T'))
	}
	stmts = append(stmts, `INSERT INTO weir_pg_keywords_t VALUES `+strings.Join(vals, ", "))
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return duckErr(err)
	}
	defer tx.Rollback()
	for _, s := range stmts {
		if _, err := tx.ExecContext(ctx, s); err != nil {
			return sqlerr.Wrap(duckErr(err), sqlerr.Internal, "install the pg_catalog emulation: %.60s", s)
		}
	}
	if err := tx.Commit(); err != nil {
		return duckErr(err)
	}
	d.pgCatalog().done = false
	return d.syncCatalog(ctx)
}

// syncCatalog brings weir_pg_rel, weir_pg_att and weir_pg_pkey up to date with Weir's
// catalog when it changed since the last call. Catalog reads call it first, so every
// CREATE and DROP is visible to the next pg_catalog query.
func (d *DB) syncCatalog(ctx context.Context) error {
	rels := d.cat.List(0)
	var fp strings.Builder
	for _, r := range rels {
		fmt.Fprintf(&fp, "%d:%s;", r.ID, r.Name)
	}
	pc := d.pgCatalog()
	pc.mu.Lock()
	defer pc.mu.Unlock()
	if pc.done && fp.String() == pc.synced {
		return nil
	}
	var relRows, attRows, pkRows []string
	for _, r := range rels {
		oid := relOID(r.ID)
		kind, viewdef := "r", "NULL"
		if r.Kind == catalog.View {
			kind, viewdef = "m", sqlString(strings.TrimRight(strings.TrimSpace(r.Query), ";"))
		}
		relRows = append(relRows, fmt.Sprintf("(%d, %s, '%s', 2, %t, %d, %s, %s)",
			oid, sqlString(r.Name), kind, len(r.PrimaryKey) > 0, len(r.Columns), viewdef, sqlString(r.Kind.String())))
		inPK := map[int]bool{}
		for _, k := range r.PrimaryKey {
			inPK[k] = true
		}
		for i, c := range r.Columns {
			attRows = append(attRows, fmt.Sprintf("(%d, %s, %d, %d, %d, %t)",
				oid, sqlString(c.Name), i+1, c.Type.OID(), typmod(c), c.NotNull || inPK[i]))
		}
		if len(r.PrimaryKey) > 0 {
			name := r.Name + "_pkey"
			var cols, nums []string
			for _, k := range r.PrimaryKey {
				cols = append(cols, quoteIdent(r.Columns[k].Name))
				nums = append(nums, fmt.Sprint(k+1))
			}
			relRows = append(relRows, fmt.Sprintf("(%d, %s, 'i', 403, false, %d, NULL, 'index')",
				oid+1, sqlString(name), len(cols)))
			for j, k := range r.PrimaryKey {
				c := r.Columns[k]
				attRows = append(attRows, fmt.Sprintf("(%d, %s, %d, %d, %d, false)",
					oid+1, sqlString(c.Name), j+1, c.Type.OID(), typmod(c)))
			}
			pkRows = append(pkRows, fmt.Sprintf("(%d, %d, %d, %s, %d, %s, [%s], %s, %s)",
				oid+1, oid, oid+2, sqlString(name), len(cols), sqlString(strings.Join(nums, " ")), strings.Join(nums, ", "),
				sqlString(fmt.Sprintf("CREATE UNIQUE INDEX %s ON public.%s USING btree (%s)", quoteIdent(name), quoteIdent(r.Name), strings.Join(cols, ", "))),
				sqlString("PRIMARY KEY ("+strings.Join(cols, ", ")+")")))
		}
	}
	tx, err := d.store.DB().BeginTx(ctx, nil)
	if err != nil {
		return duckErr(err)
	}
	defer tx.Rollback()
	stmts := []string{`DELETE FROM weir_pg_rel`, `DELETE FROM weir_pg_att`, `DELETE FROM weir_pg_pkey`}
	for _, ins := range []struct {
		table string
		rows  []string
	}{{"weir_pg_rel", relRows}, {"weir_pg_att", attRows}, {"weir_pg_pkey", pkRows}} {
		if len(ins.rows) > 0 {
			stmts = append(stmts, "INSERT INTO "+ins.table+" VALUES "+strings.Join(ins.rows, ", "))
		}
	}
	for _, s := range stmts {
		if _, err := tx.ExecContext(ctx, s); err != nil {
			return duckErr(err)
		}
	}
	if err := tx.Commit(); err != nil {
		return duckErr(err)
	}
	pc.synced, pc.done = fp.String(), true
	return nil
}

// typmod is the column's pg_attribute.atttypmod: varchar(n) is n+4, numeric(p,s) is
// (p<<16 | s)+4, as in PostgreSQL; -1 when unconstrained.
func typmod(c catalog.Column) int32 {
	switch {
	case c.Type == catalog.Varchar && c.MaxLen > 0:
		return int32(c.MaxLen) + 4
	case c.Type == catalog.Numeric && c.Precision > 0:
		return (c.Precision<<16 | c.Scale) + 4
	}
	return -1
}

func sqlString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

var plainIdent = regexp.MustCompile(`^[a-z_][a-z0-9_$]*$`)

// quoteIdent quotes an identifier unless it is a plain lower-case one, as
// PostgreSQL's quote_ident does (keywords aside).
func quoteIdent(s string) string {
	if plainIdent.MatchString(s) {
		return s
	}
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// catalogRelations are the pg_catalog relations the emulation provides; a client's
// reference to one (qualified with pg_catalog or not) is renamed to weir_<name>.
var catalogRelations = setOf("pg_namespace", "pg_class", "pg_attribute", "pg_type", "pg_index", "pg_constraint",
	"pg_am", "pg_database", "pg_roles", "pg_authid", "pg_user", "pg_collation", "pg_tablespace", "pg_settings",
	"pg_attrdef", "pg_policy", "pg_statistic_ext", "pg_publication", "pg_publication_namespace",
	"pg_publication_rel", "pg_inherits", "pg_rewrite", "pg_trigger", "pg_description", "pg_auth_members",
	"pg_extension", "pg_matviews", "pg_tables", "pg_views", "pg_stat_user_tables", "pg_statio_user_tables",
	"pg_enum", "pg_depend", "pg_sequence", "pg_conversion", "pg_proc", "pg_stat_activity")

// catalogFunctions are the functions the emulation provides: a call name(…) becomes
// weir_pg_<name>(…) (pg_ prefixes are not doubled).
var catalogFunctions = setOf("pg_get_userbyid", "format_type", "pg_get_expr", "pg_get_viewdef", "pg_get_indexdef",
	"pg_get_constraintdef", "pg_encoding_to_char", "pg_relation_is_publishable", "pg_get_statisticsobjdef_columns",
	"pg_get_ruledef", "array_upper", "col_description", "obj_description", "shobj_description",
	"pg_table_is_visible", "pg_type_is_visible", "current_database", "current_schema", "current_schemas",
	"pg_backend_pid", "quote_ident", "current_setting", "version", "pg_table_size", "pg_relation_size",
	"pg_total_relation_size", "pg_database_size", "pg_size_pretty", "pg_get_keywords", "pg_get_partkeydef",
	"to_regtype", "to_regclass", "to_regnamespace", "array_lower", "parse_ident", "pg_get_serial_sequence",
	"has_table_privilege", "has_schema_privilege", "has_database_privilege", "pg_is_in_recovery",
	"pg_postmaster_start_time", "inet_server_addr", "inet_server_port", "pg_tablespace_location")

// renamedFunctions are PostgreSQL functions DuckDB has under another name.
var renamedFunctions = map[string]string{"json_build_object": "json_object", "jsonb_build_object": "json_object"}

// sessionValues are the keywords that stand for the session's user (current_user, user,
// session_user, current_role), rewritten to the user's name.
var sessionValues = setOf("current_user", "session_user", "user", "current_role")

// textFunctions return a name as text: the operand of a ::regclass cast that is a call to
// one is looked up (format('%I.%I', s, t)::regclass), not printed.
var textFunctions = setOf("format", "quote_ident", "concat", "pg_get_serial_sequence", "lower", "upper", "trim", "replace")

// infoSchemaRelations are the information_schema views the emulation provides:
// information_schema.X becomes weir_is_X.
var infoSchemaRelations = setOf("schemata", "tables", "views", "columns", "table_constraints", "key_column_usage")

// regTypes are the OID alias types a cast to which is rewritten (see rewriteCatalog).
var regTypes = setOf("regclass", "regtype", "regnamespace", "regrole")

func setOf(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

func shimFunction(name string) string {
	return "weir_pg_" + strings.TrimPrefix(name, "pg_")
}

// ctok is a token being rewritten: its text and the source text before it.
type ctok struct {
	pre, text, lower string
	kind             pg_query.Token
	word             bool   // identifier or keyword, unquoted
	reserved         bool   // a reserved keyword
	alias            string // the result column name PostgreSQL gives a call this token starts
	colname          string // for a rewritten cast: the name PostgreSQL takes from its operand, if any
	wraps, closes    bool   // a wrapper call the rewrite added starts / ends here
}

// listFunctions return arrays (DuckDB lists).
var listFunctions = setOf("parse_ident", "string_to_array", "current_schemas", "array_agg")

// textTypes are type names whose cast makes a text value.
var textTypes = setOf("text", "varchar", "name")

// settingName is the setting a string literal names: 'TimeZone' → timezone.
func settingName(lit string) string {
	if !strings.HasPrefix(lit, "'") || !strings.HasSuffix(lit, "'") || len(lit) < 2 {
		return ""
	}
	return strings.ToLower(strings.ReplaceAll(lit[1:len(lit)-1], "''", "'"))
}

// operandName is the column name PostgreSQL derives from a cast's operand: a column
// reference's last name, a function call's name; "" for anything else.
func operandName(op []ctok) string {
	switch {
	case len(op) >= 3 && op[1].text == "(" && op[0].word:
		return op[0].lower
	case len(op) >= 1 && op[len(op)-1].kind == pg_query.Token_IDENT:
		for k := 1; k < len(op); k += 2 {
			if op[k].text != "." {
				return ""
			}
		}
		return op[len(op)-1].lower
	}
	return ""
}

// rewriteCatalog rewrites a client's read so that DuckDB answers it from the catalog
// emulation. It works on the PostgreSQL scanner's tokens, so string literals, quoted
// identifiers and comments are never touched:
//
//   - pg_catalog.X loses its qualifier; OPERATOR(pg_catalog.op) becomes op; COLLATE
//     pg_catalog.default (or "C", "POSIX") is dropped;
//   - the pg_catalog relations in catalogRelations become weir_pg_*, the functions in
//     catalogFunctions weir_pg_*(…);
//   - x::regclass (regtype, regnamespace, regrole) becomes weir_pg_regclass_oid(x) when x
//     is a string literal or parameter (a name to look up), else weir_pg_regclass_name(x)
//     (an OID to print);
//   - `~ 'pattern'` (and !~, ~*, !~*) becomes a search for the pattern anywhere, as in
//     PostgreSQL: DuckDB's ~ must match the whole string;
//   - generate_series(…) s gets the column alias s(s), so s is the value as in PostgreSQL;
//   - ARRAY(…) AS name, a result column, prints as PostgreSQL's array text;
//   - LIKE 'pattern' with a backslash gets ESCAPE '\', PostgreSQL's default;
//   - information_schema.X (schemata, tables, views, columns, table_constraints,
//     key_column_usage) becomes weir_is_X;
//   - a select-list item that is exactly one rewritten call is named as PostgreSQL
//     names it (version, current_setting, regclass, …).
//
// When the read names a catalog relation or function, the emulation is synced first.
func (d *DB) rewriteCatalog(sql string) string { return d.rewriteCatalogFor(sql, nil) }

// rewriteCatalog is DB.rewriteCatalog with the session's user, settings and cursors:
// current_user and current_setting('name') become their values in this session, and
// pg_cursors lists the session's cursors (cursorsRelation).
func (s *Session) rewriteCatalog(sql string) string {
	return s.db.rewriteCatalogFor(s.cursorsRelation(sql), s.settings)
}

// cursorsRelation replaces each reference to pg_cursors (or pg_catalog.pg_cursors) in
// sql with the session's cursors as a relation of PostgreSQL's columns: name,
// statement, is_holdable (Weir's cursors all outlive their transaction), is_binary,
// is_scrollable (never) and creation_time.
func (s *Session) cursorsRelation(sql string) string {
	if !strings.Contains(strings.ToLower(sql), "pg_cursors") {
		return sql
	}
	res, err := pg_query.Scan(sql)
	if err != nil {
		return sql
	}
	names := make([]string, 0, len(s.cursors))
	for name := range s.cursors {
		names = append(names, name)
	}
	sort.Strings(names)
	var rows []string
	for _, name := range names {
		c := s.cursors[name]
		rows = append(rows, fmt.Sprintf("SELECT %s::VARCHAR AS name, %s::VARCHAR AS statement, true AS is_holdable, false AS is_binary, false AS is_scrollable, %s::TIMESTAMPTZ AS creation_time",
			sqlString(name), sqlString(c.sql), sqlString(c.created.UTC().Format("2006-01-02 15:04:05.999999-07:00"))))
	}
	rel := "(" + strings.Join(rows, " UNION ALL ") + ")"
	if len(rows) == 0 {
		rel = "(SELECT NULL::VARCHAR AS name, NULL::VARCHAR AS statement, NULL::BOOLEAN AS is_holdable, NULL::BOOLEAN AS is_binary, NULL::BOOLEAN AS is_scrollable, NULL::TIMESTAMPTZ AS creation_time WHERE false)"
	}
	var sb strings.Builder
	last := 0
	toks := res.Tokens
	for i, t := range toks {
		if !strings.EqualFold(strings.Trim(sql[t.Start:t.End], `"`), "pg_cursors") || i+1 < len(toks) && sql[toks[i+1].Start:toks[i+1].End] == "(" {
			continue
		}
		start := t.Start
		if i >= 2 && sql[toks[i-1].Start:toks[i-1].End] == "." {
			if !strings.EqualFold(sql[toks[i-2].Start:toks[i-2].End], "pg_catalog") {
				continue
			}
			start = toks[i-2].Start
		}
		alias := ""
		if next := i + 1; next >= len(toks) || !(toks[next].Token == pg_query.Token_IDENT || strings.EqualFold(sql[toks[next].Start:toks[next].End], "as")) {
			alias = " AS pg_cursors"
		}
		sb.WriteString(sql[last:start])
		sb.WriteString(rel + alias)
		last = int(t.End)
	}
	sb.WriteString(sql[last:])
	return sb.String()
}

func (d *DB) rewriteCatalogFor(sql string, settings map[string]string) string {
	out, touched := rewriteCatalogSQLFor(sql, settings)
	if touched {
		if err := d.syncCatalog(context.Background()); err != nil {
			d.logger.Warn("sync the pg_catalog emulation", "err", err)
		}
	}
	return out
}

func rewriteCatalogSQL(sql string) (string, bool) { return rewriteCatalogSQLFor(sql, nil) }

// rewriteCatalogSQLFor rewrites sql for a session with settings (nil: the defaults).
func rewriteCatalogSQLFor(sql string, settings map[string]string) (string, bool) {
	res, err := pg_query.Scan(sql)
	if err != nil {
		return sql, false
	}
	// Quick exit: nothing the rewrite would touch.
	interesting := false
	for _, t := range res.Tokens {
		raw := sql[t.Start:t.End]
		s := strings.ToLower(strings.Trim(raw, `"`))
		if strings.HasPrefix(s, "pg_") || strings.Contains(s, "~") || s == "information_schema" || s == "like" ||
			s == "ilike" || regTypes[s] || catalogFunctions[s] || s == "array" || s == "null" || sessionValues[s] ||
			renamedFunctions[s] != "" || t.Token == pg_query.Token_IDENT && raw != strings.ToLower(raw) && raw[0] != '"' {
			interesting = true
			break
		}
	}
	if !interesting {
		return sql, false
	}
	var toks []ctok
	last := 0
	for _, t := range res.Tokens {
		text := sql[t.Start:t.End]
		word := t.Token == pg_query.Token_IDENT && !strings.HasPrefix(text, `"`) ||
			t.KeywordKind != pg_query.KeywordKind_NO_KEYWORD
		lower := strings.ToLower(text)
		afterAs := len(toks) > 0 && toks[len(toks)-1].lower == "as"
		switch {
		case word && (t.Token == pg_query.Token_IDENT || afterAs):
			// PostgreSQL folds unquoted identifiers to lower case (AS TABLE_NAME names the
			// column table_name); DuckDB keeps the case of aliases.
			text = lower
		case t.Token == pg_query.Token_IDENT && plainIdent.MatchString(strings.Trim(text, `"`)) && len(text) > 2:
			// "pg_class" is pg_class.
			word, lower = true, strings.Trim(text, `"`)
		}
		toks = append(toks, ctok{pre: sql[last:t.Start], text: text, lower: lower, kind: t.Token, word: word,
			reserved: t.KeywordKind == pg_query.KeywordKind_RESERVED_KEYWORD})
		last = int(t.End)
	}
	tail := sql[last:]
	touched := false

	// Pass 1: qualifiers, OPERATOR(…), COLLATE.
	var p1 []ctok
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		switch {
		case t.lower == "information_schema" && i+2 < len(toks) && toks[i+1].text == "." &&
			toks[i+2].word && infoSchemaRelations[toks[i+2].lower]:
			p1 = append(p1, ctok{pre: t.pre, text: "weir_is_" + toks[i+2].lower, lower: "weir_is_" + toks[i+2].lower})
			i += 2
			touched = true
			continue
		case t.lower == "information_schema" && i+3 < len(toks) && toks[i+1].text == "." &&
			toks[i+2].lower == "_pg_expandarray" && toks[i+3].text == "(":
			// A set-returning function of (x, n) records: unnest a list of structs.
			end := matchParen(toks, i+3)
			if end < 0 {
				break
			}
			p1 = append(p1, ctok{pre: t.pre, text: "unnest(weir_pg_expandarray"})
			p1 = append(p1, toks[i+3:end+1]...)
			p1 = append(p1, ctok{text: ")"})
			i = end
			touched = true
			continue
		case t.lower == "pg_catalog" && i+2 < len(toks) && toks[i+1].text == "." && !toks[i+2].reserved:
			// pg_catalog.X → X (keeping the whitespace before pg_catalog)
			toks[i+2].pre = t.pre
			i++
			continue
		case t.lower == "operator" && i+1 < len(toks) && toks[i+1].text == "(":
			j := i + 2
			if j+1 < len(toks) && toks[j].lower == "pg_catalog" && toks[j+1].text == "." {
				j += 2
			}
			if j+1 < len(toks) && toks[j+1].text == ")" {
				p1 = append(p1, ctok{pre: t.pre, text: toks[j].text, lower: toks[j].lower, kind: toks[j].kind})
				i = j + 1
				continue
			}
		case t.lower == "collate" && i+1 < len(toks):
			j := i + 1
			if j+1 < len(toks) && toks[j].lower == "pg_catalog" && toks[j+1].text == "." {
				j += 2
			}
			if j < len(toks) {
				switch toks[j].lower {
				case "default", `"default"`, `"c"`, `"posix"`:
					touched = true
					i = j
					continue
				}
			}
		}
		p1 = append(p1, t)
	}

	// Pass 2: casts to OID alias types, regex operators, renames.
	var p2 []ctok
	for i := 0; i < len(p1); i++ {
		t := p1[i]
		if t.kind == pg_query.Token_TYPECAST && i+1 < len(p1) && regTypes[p1[i+1].lower] && len(p2) > 0 &&
			(i+2 >= len(p1) || p1[i+2].text != "." && p1[i+2].text != "[" && p1[i+2].text != "(") {
			start := operandStart(p2)
			if start >= 0 {
				operand := p2[start:]
				kind := "name"
				if len(operand) == 1 && (operand[0].kind == pg_query.Token_SCONST || operand[0].kind == pg_query.Token_PARAM) ||
					len(operand) > 1 && operand[1].text == "(" && textFunctions[operand[0].lower] ||
					len(operand) > 2 && operand[len(operand)-2].kind == pg_query.Token_TYPECAST && textTypes[operand[len(operand)-1].lower] {
					kind = "oid"
				}
				var sb strings.Builder
				for k, o := range operand {
					if k > 0 {
						sb.WriteString(o.pre)
					}
					sb.WriteString(o.text)
				}
				fn := "weir_pg_" + p1[i+1].lower + "_" + kind
				call := ctok{pre: operand[0].pre, text: fn + "(" + sb.String() + ")", alias: p1[i+1].lower,
					colname: operandName(operand)}
				if kind == "oid" {
					call.alias += "_oid" // a name looked up; see nameResultColumns
				}
				p2 = append(p2[:start], call)
				i++
				touched = true
				continue
			}
		}
		if (t.text == "~" || t.text == "!~" || t.text == "~*" || t.text == "!~*") && i+1 < len(p1) && p1[i+1].kind == pg_query.Token_SCONST {
			lit := p1[i+1]
			q := strings.IndexByte(lit.text, '\'')
			if q >= 0 && strings.HasSuffix(lit.text, "'") && len(lit.text) >= q+2 {
				flags := "(?s)"
				op := strings.TrimSuffix(t.text, "*")
				if op != t.text {
					flags = "(?is)"
				}
				body := lit.text[q+1 : len(lit.text)-1]
				p2 = append(p2, ctok{pre: t.pre, text: op},
					ctok{pre: lit.pre, text: lit.text[:q+1] + flags + ".*(?:" + body + ").*'", kind: pg_query.Token_SCONST})
				i++
				continue
			}
		}
		if (t.lower == "like" || t.lower == "ilike") && likeOperand(p2) && i+1 < len(p1) && p1[i+1].kind == pg_query.Token_SCONST &&
			strings.Contains(p1[i+1].text, `\`) && !(i+2 < len(p1) && p1[i+2].lower == "escape") {
			// PostgreSQL's LIKE escapes with a backslash by default; DuckDB's has no escape.
			p2 = append(p2, t, p1[i+1], ctok{pre: " ", text: `ESCAPE '\'`})
			i++
			touched = true
			continue
		}
		prevDot := len(p2) > 0 && p2[len(p2)-1].text == "."
		nextParen := i+1 < len(p1) && p1[i+1].text == "("
		if t.word && !prevDot {
			switch {
			case !nextParen && sessionValues[t.lower] && t.kind != pg_query.Token_IDENT:
				user := "weir"
				if settings != nil && settings["session_authorization"] != "" {
					user = settings["session_authorization"]
				}
				t.text, t.alias, touched = sqlString(user), t.lower, true
			case nextParen && t.lower == "current_setting" && settings != nil && i+3 < len(p1) &&
				p1[i+2].kind == pg_query.Token_SCONST && p1[i+3].text == ")" && settings[settingName(p1[i+2].text)] != "":
				// The session's own value (SET application_name …), not the default.
				t.text, t.alias, touched = sqlString(settings[settingName(p1[i+2].text)]), t.lower, true
				i += 3
			case nextParen && renamedFunctions[t.lower] != "":
				t.text, touched = renamedFunctions[t.lower], true
			case nextParen && catalogFunctions[t.lower]:
				t.text, t.alias, touched = shimFunction(t.lower), t.lower, true
			case !nextParen && catalogRelations[t.lower]:
				t.text, touched = "weir_"+t.lower, true
			}
		}
		p2 = append(p2, t)
	}

	// Pass 3: generate_series(…) alias → alias(alias); ARRAY(…) AS name → weir_pg_array_out(ARRAY(…)) AS name.
	var p3 []ctok
	for i := 0; i < len(p2); i++ {
		t := p2[i]
		if t.lower == "string_to_array" && i > 0 && (p2[i-1].text == "," || p2[i-1].lower == "from") && i+1 < len(p2) && p2[i+1].text == "(" {
			// A scalar function in FROM is a one-row relation (Grafana's
			// string_to_array(current_setting('search_path'), ',') s); DuckDB wants a subquery.
			end := matchParen(p2, i+1)
			if end > 0 && end+1 < len(p2) && p2[end+1].kind == pg_query.Token_IDENT && !(end+2 < len(p2) && p2[end+2].text == "(") {
				alias := p2[end+1]
				p3 = append(p3, ctok{pre: t.pre, text: "(SELECT "})
				t.pre = ""
				p3 = append(p3, t)
				p3 = append(p3, p2[i+1:end+1]...)
				p3 = append(p3, ctok{text: " AS " + alias.text + ")"}, alias)
				i = end + 1
				touched = true
				continue
			}
		}
		if listFunctions[t.lower] && i+1 < len(p2) && p2[i+1].text == "(" {
			// list::text prints as PostgreSQL's array text, not DuckDB's [a, b].
			end := matchParen(p2, i+1)
			if end > 0 && end+2 < len(p2) && p2[end+1].kind == pg_query.Token_TYPECAST && textTypes[p2[end+2].lower] {
				p3 = append(p3, ctok{pre: t.pre, text: "weir_pg_array_out(", alias: t.lower, wraps: true})
				t.pre = ""
				p3 = append(p3, t)
				p3 = append(p3, p2[i+1:end+1]...)
				p3 = append(p3, ctok{text: ")", closes: true})
				i = end + 2
				touched = true
				continue
			}
		}
		if (t.lower == "generate_series" || t.lower == "array") && i+1 < len(p2) && p2[i+1].text == "(" {
			end := matchParen(p2, i+1)
			if end > 0 {
				if t.lower == "generate_series" {
					p3 = append(p3, p2[i:end+1]...)
					if end+1 < len(p2) && p2[end+1].kind == pg_query.Token_IDENT && !(end+2 < len(p2) && p2[end+2].text == "(") {
						alias := p2[end+1]
						p3 = append(p3, alias, ctok{text: "(" + alias.text + ")"})
						i = end + 1
					} else if end+2 < len(p2) && p2[end+1].lower == "as" && p2[end+2].kind == pg_query.Token_IDENT &&
						!(end+3 < len(p2) && p2[end+3].text == "(") {
						alias := p2[end+2]
						p3 = append(p3, p2[end+1], alias, ctok{text: "(" + alias.text + ")"})
						i = end + 2
					} else {
						i = end
					}
					continue
				}
				if end+2 < len(p2) && p2[end+1].lower == "as" && (end+3 >= len(p2) || p2[end+3].text == "," || p2[end+3].lower == "from") {
					p3 = append(p3, ctok{pre: t.pre, text: "weir_pg_array_out("})
					t.pre = ""
					p3 = append(p3, t)
					p3 = append(p3, p2[i+1:end+1]...)
					p3 = append(p3, ctok{text: ")"})
					i = end
					touched = true
					continue
				}
			}
		}
		p3 = append(p3, t)
	}

	p3 = nameResultColumns(p3)
	var sb strings.Builder
	for _, t := range p3 {
		sb.WriteString(t.pre)
		sb.WriteString(t.text)
	}
	sb.WriteString(tail)
	return sb.String(), touched
}

// nameResultColumns gives a select-list item that is exactly one rewritten call the
// column name PostgreSQL would (SELECT version() → "version", 'x'::regclass →
// "regclass"); DuckDB would name it after the shim.
func nameResultColumns(toks []ctok) []ctok {
	type level struct{ selecting bool }
	stack := []level{{}}
	var out []ctok
	itemStart := -1 // index in out where the current select-list item starts
	var starts []int
	finish := func(end int) { // out[itemStart:end] is a complete item
		if itemStart < 0 || itemStart >= end {
			return
		}
		item := out[itemStart:end]
		if n := len(item); item[0].lower == "null" && (n == 1 || n == 3 && item[1].lower == "as" || n == 2 && item[1].kind == pg_query.Token_IDENT) {
			// A bare NULL is text in PostgreSQL (unknown resolved as text); DuckDB's is an integer.
			item[0].text = "NULL::VARCHAR"
			if n == 1 {
				item[0].text += ` AS "text"`
			}
			return
		}
		if n := len(item); n >= 3 && item[n-2].kind == pg_query.Token_TYPECAST && item[n-1].word {
			// expr::type is named as PostgreSQL names it (FigureColname): after the operand
			// when that is a column or a function call, else after the type.
			op := n - 2
			for op >= 2 && item[op-2].kind == pg_query.Token_TYPECAST && item[op-1].word {
				op -= 2
			}
			name := operandName(item[:op])
			if op == 1 && item[0].colname != "" {
				name = item[0].colname
			} else if op == 1 && item[0].alias != "" && !regTypes[strings.TrimSuffix(item[0].alias, "_oid")] {
				name = item[0].alias
			}
			if name == "" {
				name = item[n-1].lower
				if pg, ok := castNames[name]; ok {
					name = pg
				}
			}
			item[n-1].text += ` AS "` + name + `"`
			return
		}
		if item[0].alias == "" {
			if n := len(item); n >= 3 && item[0].word && item[1].text == "(" && matchParen(item, 1) == n-1 &&
				!isKeywordOperator(item[0].lower) && item[0].lower != "cast" && !strings.HasPrefix(item[0].lower, "weir_") {
				// f(…) is named f, as in PostgreSQL (DuckDB names it after the whole call).
				item[n-1].text += ` AS "` + item[0].lower + `"`
			}
			return
		}
		exact := len(item) == 1 && !strings.HasSuffix(item[0].text, "(") ||
			len(item) >= 3 && item[1].text == "(" && matchParen(item, 1) == len(item)-1 ||
			item[0].wraps && item[len(item)-1].closes
		if typ, ok := strings.CutSuffix(item[0].alias, "_oid"); ok {
			// 'name'::regclass: an OID, except as a result column of the outermost
			// SELECT, where PostgreSQL prints a regclass as the name.
			if exact && len(item) == 1 && len(stack) == 1 {
				item[0].text = "weir_pg_" + typ + "_name(" + item[0].text + ")"
			}
			item[0].alias = typ
		}
		if exact {
			name := item[0].alias
			if item[0].colname != "" {
				name = item[0].colname
			}
			item[len(item)-1].text += ` AS "` + name + `"`
		}
	}
	for _, t := range toks {
		top := &stack[len(stack)-1]
		switch {
		case t.text == "(":
			out = append(out, t)
			starts = append(starts, itemStart)
			stack = append(stack, level{})
			itemStart = -1
			continue
		case t.text == ")":
			if top.selecting {
				finish(len(out))
			}
			if len(stack) > 1 {
				stack = stack[:len(stack)-1]
				itemStart = starts[len(starts)-1]
				starts = starts[:len(starts)-1]
			}
			out = append(out, t)
			continue
		case t.lower == "select":
			top.selecting = true
			out = append(out, t)
			itemStart = len(out)
			continue
		case top.selecting && t.text == ",":
			finish(len(out))
			out = append(out, t)
			itemStart = len(out)
			continue
		case top.selecting && (t.text == ";" || t.word && selectListEnd[t.lower]):
			finish(len(out))
			top.selecting = false
			itemStart = -1
		case top.selecting && (t.lower == "distinct" || t.lower == "all") && itemStart == len(out):
			out = append(out, t)
			itemStart = len(out)
			continue
		}
		out = append(out, t)
	}
	if stack[len(stack)-1].selecting {
		finish(len(out))
	}
	return out
}

// castNames are PostgreSQL's names for type spellings, as a cast's result column shows them.
var castNames = map[string]string{"int": "int4", "integer": "int4", "bigint": "int8", "smallint": "int2",
	"boolean": "bool", "real": "float4", "float": "float8", "decimal": "numeric"}

var selectListEnd = setOf("from", "into", "where", "group", "having", "order", "limit", "offset", "union",
	"intersect", "except", "window", "fetch", "for")

// likeOperand reports whether toks end with what can be LIKE's left operand (or NOT).
func likeOperand(toks []ctok) bool {
	if len(toks) == 0 {
		return false
	}
	p := toks[len(toks)-1]
	return p.kind == pg_query.Token_IDENT || p.kind == pg_query.Token_SCONST || p.text == ")" || p.text == "]" ||
		p.lower == "not" || p.word && !p.reserved
}

// matchParen returns the index of the ")" closing the "(" at open, or -1.
func matchParen(toks []ctok, open int) int {
	depth := 0
	for j := open; j < len(toks); j++ {
		switch toks[j].text {
		case "(":
			depth++
		case ")":
			depth--
			if depth == 0 {
				return j
			}
		}
	}
	return -1
}

// operandStart returns where the operand of a trailing `::` begins in toks: a literal,
// parameter or (qualified) name, a parenthesized expression, or a function call.
func operandStart(toks []ctok) int {
	i := len(toks) - 1
	if toks[i].text == ")" {
		depth := 0
		for ; i >= 0; i-- {
			switch toks[i].text {
			case ")":
				depth++
			case "(":
				depth--
			}
			if depth == 0 {
				break
			}
		}
		if i < 0 {
			return -1
		}
		if i > 0 && (toks[i-1].kind == pg_query.Token_IDENT || toks[i-1].word) && !isKeywordOperator(toks[i-1].lower) {
			i--
		} else {
			return i
		}
	}
	switch {
	case toks[i].kind == pg_query.Token_SCONST || toks[i].kind == pg_query.Token_ICONST || toks[i].kind == pg_query.Token_PARAM:
		return i
	case toks[i].kind == pg_query.Token_IDENT || toks[i].word:
		for i >= 2 && toks[i-1].text == "." && (toks[i-2].kind == pg_query.Token_IDENT || toks[i-2].word) {
			i -= 2
		}
		return i
	}
	return -1
}

// isKeywordOperator reports keywords that precede a parenthesized expression without
// being a function name.
func isKeywordOperator(s string) bool {
	switch s {
	case "and", "or", "not", "in", "select", "where", "when", "then", "else", "on", "as", "exists", "any", "all", "some", "is", "between", "like":
		return true
	}
	return false
}

// pgArrayText prints a DuckDB list as PostgreSQL's array text ({a,b,"c d",NULL}), as
// array_out does: elements quoted when empty, NULL, or holding a delimiter, brace, quote,
// backslash or space.
func pgArrayText(v any) any {
	list, ok := v.([]any)
	if !ok {
		return fmt.Sprint(v)
	}
	var sb strings.Builder
	sb.WriteByte('{')
	for i, e := range list {
		if i > 0 {
			sb.WriteByte(',')
		}
		if e == nil {
			sb.WriteString("NULL")
			continue
		}
		var s string
		switch x := e.(type) {
		case []any:
			s = pgArrayText(x).(string)
			sb.WriteString(s)
			continue
		case string:
			s = x
		case bool:
			s = map[bool]string{true: "t", false: "f"}[x]
		default:
			s = fmt.Sprint(x)
		}
		if s == "" || strings.EqualFold(s, "null") || strings.ContainsAny(s, "{},\"\\ \t\n") {
			s = `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
		}
		sb.WriteString(s)
	}
	sb.WriteByte('}')
	return sb.String()
}
