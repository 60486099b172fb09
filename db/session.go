package db

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/weirdb/weir/catalog"
	"github.com/weirdb/weir/internal/delta"
	"github.com/weirdb/weir/internal/sqlerr"
	"github.com/weirdb/weir/planner"
)

// Column describes a result column with its PostgreSQL type.
type Column struct {
	Name     string
	OID      uint32
	TypeSize int16
	TypeMod  int32
}

func textColumn(name string) Column { return Column{Name: name, OID: 25, TypeSize: -1, TypeMod: -1} }

// ServerVersion is what clients see as server_version (psql and drivers parse the number).
const ServerVersion = "15.0"

// defaultSettings are the session settings and their initial values; those marked
// reported are sent as ParameterStatus at startup.
var defaultSettings = []struct {
	name, value string
	reported    bool
}{
	{"server_version", ServerVersion, true},
	{"server_version_num", "150000", false},
	{"server_encoding", "UTF8", true},
	{"client_encoding", "UTF8", true},
	{"datestyle", "ISO, MDY", true},
	{"intervalstyle", "postgres", true},
	{"timezone", "UTC", true},
	{"integer_datetimes", "on", true},
	{"standard_conforming_strings", "on", true},
	{"is_superuser", "on", true},
	{"session_authorization", "weir", true},
	{"application_name", "", true},
	{"default_transaction_read_only", "off", true},
	{"in_hot_standby", "off", true},
	{"search_path", `"$user", public`, false},
	{"extra_float_digits", "1", false},
	{"transaction_isolation", "serializable", false},
	{"default_transaction_isolation", "serializable", false},
	{"lc_messages", "C", false},
	{"lc_monetary", "C", false},
	{"lc_numeric", "C", false},
	{"lc_time", "C", false},
	{"bytea_output", "hex", false},
	{"max_connections", "100", false},
	{"block_size", "8192", false},
	{"max_identifier_length", "63", false},
	{"statement_timeout", "0", false},
	{"lc_collate", "C", false},
	{"lc_ctype", "C", false},
}

// reportedNames maps lower-case names to the capitalisation PostgreSQL reports.
var reportedNames = map[string]string{"datestyle": "DateStyle", "intervalstyle": "IntervalStyle", "timezone": "TimeZone"}

// Session is one client's state: settings and transaction status. It is used by one
// goroutine at a time.
type Session struct {
	db       *DB
	settings map[string]string
	tx       byte               // 'I', 'T' or 'E'
	wroteTx  bool               // a write ran inside the open transaction block
	cursors  map[string]*cursor // DECLAREd cursors (cursor.go)
	role     *sessionRole       // the authenticated role (roles.go); nil: trust, the superuser weir
}

// NewSession opens a session; params are the client's startup parameters.
func (d *DB) NewSession(params map[string]string) *Session {
	s := &Session{db: d, settings: map[string]string{}, tx: 'I'}
	for _, ds := range defaultSettings {
		s.settings[ds.name] = ds.value
	}
	if u := params["user"]; u != "" {
		s.settings["session_authorization"] = u
	}
	if a := params["application_name"]; a != "" {
		s.settings["application_name"] = a
	}
	return s
}

// ParameterStatus returns the settings reported to the client at startup.
func (s *Session) ParameterStatus() [][2]string {
	var out [][2]string
	for _, ds := range defaultSettings {
		if ds.reported {
			name := ds.name
			if r, ok := reportedNames[name]; ok {
				name = r
			}
			out = append(out, [2]string{name, s.settings[ds.name]})
		}
	}
	return out
}

// TxStatus is the ReadyForQuery status.
func (s *Session) TxStatus() byte { return s.tx }

// Split cuts a simple-query string into statements.
func (s *Session) Split(sql string) ([]string, error) { return planner.Split(sql) }

// Prepared is a planned statement ready to execute.
type Prepared struct {
	s       *Session
	sql     string
	st      planner.Statement
	read    *readPlan // for planner.Read
	inner   *Prepared // for planner.Declare: the cursor's query, which holds the parameters
	columns []Column
	params  []uint32
}

// Prepare plans one statement; paramOIDs are the client's declared parameter types.
func (s *Session) Prepare(ctx context.Context, sql string, paramOIDs []uint32) (*Prepared, error) {
	if err := s.db.checkReady(); err != nil {
		return nil, err
	}
	st, err := s.db.planner.Plan(sql, paramOIDs)
	if err != nil {
		return nil, err
	}
	if err := s.authorize(ctx, st); err != nil { // roles.go; again at Execute
		return nil, err
	}
	p := &Prepared{s: s, sql: sql, st: st}
	for _, t := range st.ParamTypes() {
		p.params = append(p.params, t.OID())
	}
	switch x := st.(type) {
	case *planner.Read:
		rp, err := s.db.describeRead(ctx, s.rewriteCatalog(sql), paramOIDs)
		if err != nil {
			return nil, err
		}
		nameColumns(rp.columns, x.Names)
		p.read, p.columns, p.params = rp, rp.columns, rp.params
	case *planner.Show:
		p.columns = showColumns(x.What)
	case *planner.ShowSinks:
		p.columns = showSinksColumns() // sinks.go
	case *planner.ShowVar:
		if x.Name == "all" {
			p.columns = []Column{textColumn("name"), textColumn("setting"), textColumn("description")}
		} else if x.Name == "transaction isolation level" {
			p.columns = []Column{textColumn("transaction_isolation")}
		} else if r, ok := reportedNames[x.Name]; ok {
			p.columns = []Column{textColumn(r)}
		} else {
			p.columns = []Column{textColumn(x.Name)}
		}
	case *planner.Explain, *planner.ExplainView:
		p.columns = []Column{textColumn("QUERY PLAN")}
	case *planner.Declare:
		// DECLARE c CURSOR FOR SELECT … $1: the parameters are the query's (cursor.go).
		if p.inner, err = s.prepareDeclare(ctx, x, paramOIDs); err != nil {
			return nil, err
		}
		p.params = p.inner.params
	case *planner.Fetch, *planner.CloseCursor:
		if p.columns, err = s.prepareCursor(st); err != nil {
			return nil, err
		}
	case *planner.Subscribe:
		cols, err := s.db.subscribeColumns(x.Name)
		if err != nil {
			return nil, err
		}
		p.columns = cols
	}
	return p, nil
}

// ParamOIDs are the parameter types.
func (p *Prepared) ParamOIDs() []uint32 { return p.params }

// Columns describes the result rows; nil when there are none.
func (p *Prepared) Columns() []Column { return p.columns }

// Execute runs the statement with parameter values (Go values decoded by the wire layer).
func (p *Prepared) Execute(ctx context.Context, args []any) (*Rows, error) {
	s := p.s
	if s.tx == 'E' {
		if tx, ok := p.st.(*planner.Tx); !ok || tx.Tag == "BEGIN" {
			return nil, sqlerr.New("25P02", "current transaction is aborted, commands ignored until end of transaction block")
		}
	}
	if err := s.authorize(ctx, p.st); err != nil { // roles.go
		return nil, err
	}
	rows, err := p.execute(ctx, args)
	if err == nil {
		err = s.afterDDL(ctx, p.st) // roles.go
	}
	if err != nil && s.tx == 'T' {
		s.tx = 'E'
	}
	return rows, err
}

func (p *Prepared) execute(ctx context.Context, args []any) (*Rows, error) {
	s, d := p.s, p.s.db
	if p.read != nil {
		return d.runRead(ctx, p.read, args)
	}
	if st, ok := p.st.(*planner.Declare); ok {
		return s.declare(ctx, st, p, args) // cursor.go
	}
	if err := p.bindParams(args); err != nil {
		return nil, err
	}
	if rows, ok, err := s.execRole(ctx, p.st); ok { // roles.go
		return rows, err
	}
	switch st := p.st.(type) {
	case *planner.CreateRelation:
		if _, err := d.createRelation(ctx, st); err != nil {
			return nil, err
		}
		if st.Rel.Kind == catalog.Source {
			return tagOnly("CREATE SOURCE"), nil
		}
		return tagOnly("CREATE TABLE"), nil
	case *planner.CreateView:
		if _, err := d.createView(ctx, st); err != nil {
			return nil, err
		}
		return tagOnly("CREATE MATERIALIZED VIEW"), nil
	case *planner.Drop:
		if err := d.drop(ctx, st); err != nil {
			return nil, err
		}
		return tagOnly("DROP " + dropWord(st.Kind)), nil
	case *planner.Insert:
		n, err := d.insert(ctx, st)
		if err != nil {
			return nil, err
		}
		s.noteWrite()
		return tagOnly(fmt.Sprintf("INSERT 0 %d", n)), nil
	case *planner.Update:
		n, err := d.modify(ctx, st.Rel, st.Where, st.Set)
		if err != nil {
			return nil, err
		}
		s.noteWrite()
		return tagOnly(fmt.Sprintf("UPDATE %d", n)), nil
	case *planner.Delete:
		n, err := d.modify(ctx, st.Rel, st.Where, nil)
		if err != nil {
			return nil, err
		}
		s.noteWrite()
		return tagOnly(fmt.Sprintf("DELETE %d", n)), nil
	case *planner.Show:
		return d.show(st.What), nil
	case *planner.CreateSink: // sinks.go
		if err := d.createSink(ctx, st); err != nil {
			return nil, err
		}
		return tagOnly("CREATE SINK"), nil
	case *planner.DropSink:
		if err := d.dropSink(ctx, st); err != nil {
			return nil, err
		}
		return tagOnly("DROP SINK"), nil
	case *planner.ShowSinks:
		return d.showSinks(), nil
	case *planner.SetVar:
		return s.set(st)
	case *planner.ShowVar:
		return s.show(st.Name)
	case *planner.Tx:
		return s.txControl(st.Tag)
	case *planner.Explain:
		return explainRows(p.columns, st.Text), nil
	case *planner.Subscribe:
		return d.subscribeRows(ctx, st, p.columns)
	case *planner.Copy:
		if rows, ok, err := p.copySubscribe(ctx, st); ok { // subscribe.go
			return rows, err
		}
		return p.executeCopy(ctx, st)
	case *planner.Fetch:
		return s.fetch(ctx, st, p.columns)
	case *planner.CloseCursor:
		return s.closeCursor(st)
	case *planner.ExplainView:
		text, err := d.explainView(st.Name)
		if err != nil {
			return nil, err
		}
		return explainRows(p.columns, text), nil
	}
	return nil, sqlerr.New(sqlerr.FeatureNotSupported, "statement %T is not supported", p.st)
}

func explainRows(cols []Column, text string) *Rows {
	var rows [][]any
	for _, line := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
		rows = append(rows, []any{line})
	}
	return staticRows(cols, rows, "EXPLAIN")
}

// explainView renders a view's dataflow with its operators' counters.
func (d *DB) explainView(name string) (string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	rel, err := d.cat.Get(name)
	if err != nil {
		return "", err
	}
	v, ok := d.views[name]
	if !ok || rel.Kind != catalog.View {
		return "", sqlerr.New(sqlerr.WrongObjectType, "%q is a %s, not a materialized view", name, rel.Kind)
	}
	return d.explainGraph(v), nil
}

func (s *Session) noteWrite() {
	if s.tx != 'I' {
		s.wroteTx = true
	}
}

// bindParams converts the client's values to the statement's parameter types.
func (p *Prepared) bindParams(args []any) error {
	types := p.st.ParamTypes()
	if len(args) != len(types) {
		return sqlerr.New(sqlerr.ProtocolViolation, "bind message supplies %d parameters, but prepared statement requires %d", len(args), len(types))
	}
	holder := holderOf(p.st)
	if holder == nil {
		return nil
	}
	holder.Vals = make([]delta.Value, len(args))
	for i, a := range args {
		v, err := fromClient(a, types[i])
		if err != nil {
			return sqlerr.As(err).WithDetail("parameter $%d", i+1)
		}
		holder.Vals[i] = v
	}
	return nil
}

func (s *Session) set(st *planner.SetVar) (*Rows, error) {
	if st.Reset {
		for _, ds := range defaultSettings {
			if st.Name == "all" || ds.name == st.Name {
				s.settings[ds.name] = ds.value
			}
		}
		return tagOnly("RESET"), nil
	}
	switch st.Name {
	case "timezone", "time zone":
		if v := strings.ToUpper(st.Value); v != "UTC" && v != "ETC/UTC" && v != "GMT" && v != "Z" {
			return nil, sqlerr.New(sqlerr.FeatureNotSupported, "time zone %q is not supported: Weir sessions run in UTC", st.Value)
		}
		st.Name = "timezone"
	case "client_encoding":
		if v := strings.ToUpper(strings.ReplaceAll(st.Value, "-", "")); v != "UTF8" && v != "UNICODE" {
			return nil, sqlerr.New(sqlerr.FeatureNotSupported, "client_encoding %q is not supported (only UTF8)", st.Value)
		}
	case "standard_conforming_strings":
		if v := strings.ToLower(st.Value); v != "on" && v != "true" {
			return nil, sqlerr.New(sqlerr.FeatureNotSupported, "standard_conforming_strings must stay on")
		}
	}
	if st.Name != "" {
		s.settings[st.Name] = st.Value
	}
	return tagOnly("SET"), nil
}

func (s *Session) show(name string) (*Rows, error) {
	if name == "all" {
		var rows [][]any
		names := make([]string, 0, len(s.settings))
		for n := range s.settings {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			rows = append(rows, []any{n, s.settings[n], ""})
		}
		return staticRows([]Column{textColumn("name"), textColumn("setting"), textColumn("description")}, rows, "SHOW"), nil
	}
	if name == "transaction isolation level" {
		name = "transaction_isolation"
	}
	v, ok := s.settings[name]
	if !ok {
		return nil, sqlerr.New(sqlerr.UndefinedObject, "unrecognized configuration parameter %q", name)
	}
	if r, ok := reportedNames[name]; ok {
		name = r // SHOW timezone is named TimeZone, as in PostgreSQL
	}
	return staticRows([]Column{textColumn(name)}, [][]any{{v}}, "SHOW"), nil
}

func (s *Session) txControl(tag string) (*Rows, error) {
	switch tag {
	case "BEGIN":
		if s.tx == 'I' {
			s.tx, s.wroteTx = 'T', false
		}
		return tagOnly("BEGIN"), nil
	case "COMMIT":
		aborted := s.tx == 'E'
		s.tx, s.wroteTx = 'I', false
		if aborted {
			return tagOnly("ROLLBACK"), nil
		}
		return tagOnly("COMMIT"), nil
	}
	wrote := s.wroteTx
	s.tx, s.wroteTx = 'I', false
	if wrote {
		return nil, sqlerr.New(sqlerr.FeatureNotSupported, "ROLLBACK cannot undo writes: Weir applies each statement when it runs (autocommit)").
			WithHint("The writes made in this transaction block are kept.")
	}
	return tagOnly("ROLLBACK"), nil
}

func showColumns(k catalog.Kind) []Column {
	switch k {
	case catalog.Source:
		return []Column{textColumn("name"), textColumn("connector")}
	case catalog.View:
		return []Column{textColumn("name"), textColumn("definition")}
	}
	return []Column{textColumn("name")}
}

func (d *DB) show(k catalog.Kind) *Rows {
	var rows [][]any
	for _, r := range d.cat.List(k) {
		switch k {
		case catalog.Source:
			rows = append(rows, []any{r.Name, r.Options["connector"]})
		case catalog.View:
			rows = append(rows, []any{r.Name, r.Query})
		default:
			rows = append(rows, []any{r.Name})
		}
	}
	return staticRows(showColumns(k), rows, "SHOW")
}

// Close releases the session and its cursors.
func (s *Session) Close() error {
	s.closeCursors()
	return nil
}
