package planner

import (
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/weirdb/weir/internal/sqlerr"
)

// Roles and privileges (issue #6, Security): CREATE/ALTER/DROP ROLE, GRANT and REVOKE
// are planned here; db/roles.go runs them and checks privileges.

// CreateRole is CREATE ROLE | USER name [[WITH] LOGIN | NOLOGIN | SUPERUSER |
// NOSUPERUSER | PASSWORD 'pw' | PASSWORD NULL | INHERIT]. CREATE USER implies LOGIN.
type CreateRole struct {
	params
	Name      string
	Login     bool
	Superuser bool
	// Password is the password or a SCRAM-SHA-256 verifier as written; nil for none.
	Password *string
}

// AlterRole is ALTER ROLE | USER name [WITH] option…; a nil field is left unchanged.
// ClearPassword is PASSWORD NULL.
type AlterRole struct {
	params
	Name          string
	Login         *bool
	Superuser     *bool
	Password      *string
	ClearPassword bool
}

// DropRole is DROP ROLE | USER [IF EXISTS] name, ….
type DropRole struct {
	params
	Names    []string
	IfExists bool
}

// Grant is GRANT (or, with Revoke, REVOKE) privileges ON [TABLE] rel, … | ALL TABLES IN
// SCHEMA public | SCHEMA public TO | FROM role, … | PUBLIC. Privileges are upper case,
// ALL expanded: SELECT, INSERT, UPDATE, DELETE on relations; CREATE, USAGE on the schema.
type Grant struct {
	params
	Revoke     bool
	Schema     bool     // the object is schema public; otherwise Objects are relations
	Objects    []string // relation names, or "public"
	Privileges []string
	Roles      []string // role names; "public" for PUBLIC
}

var (
	relationPrivileges = []string{"SELECT", "INSERT", "UPDATE", "DELETE"}
	schemaPrivileges   = []string{"CREATE", "USAGE"}
)

// roleStatement plans n if it is a role or privilege statement; nil otherwise.
func (b *binder) roleStatement(n *pg_query.Node) Statement {
	switch s := n.Node.(type) {
	case *pg_query.Node_CreateRoleStmt:
		st := &CreateRole{params: b.params(), Name: s.CreateRoleStmt.Role,
			Login: s.CreateRoleStmt.StmtType == pg_query.RoleStmtType_ROLESTMT_USER}
		var alter AlterRole
		b.roleOptions(s.CreateRoleStmt.Options, &alter)
		if alter.Login != nil {
			st.Login = *alter.Login
		}
		if alter.Superuser != nil {
			st.Superuser = *alter.Superuser
		}
		st.Password = alter.Password
		return st
	case *pg_query.Node_AlterRoleStmt:
		st := &AlterRole{params: b.params(), Name: b.roleName(s.AlterRoleStmt.Role)}
		b.roleOptions(s.AlterRoleStmt.Options, st)
		return st
	case *pg_query.Node_DropRoleStmt:
		st := &DropRole{params: b.params(), IfExists: s.DropRoleStmt.MissingOk}
		for _, r := range s.DropRoleStmt.Roles {
			st.Names = append(st.Names, b.roleName(r.GetRoleSpec()))
		}
		return st
	case *pg_query.Node_GrantStmt:
		return b.grant(s.GrantStmt)
	case *pg_query.Node_GrantRoleStmt:
		b.unsupported(-1, "GRANT role TO role (role membership)")
	case *pg_query.Node_AlterDefaultPrivilegesStmt:
		b.unsupported(-1, "ALTER DEFAULT PRIVILEGES")
	}
	return nil
}

func (b *binder) roleName(r *pg_query.RoleSpec) string {
	if r == nil || r.Roletype != pg_query.RoleSpecType_ROLESPEC_CSTRING {
		b.unsupported(-1, "CURRENT_USER, SESSION_USER and PUBLIC here")
	}
	return r.Rolename
}

// roleOptions reads CREATE/ALTER ROLE options into st.
func (b *binder) roleOptions(opts []*pg_query.Node, st *AlterRole) {
	for _, o := range opts {
		d := o.GetDefElem()
		if d == nil {
			continue
		}
		switch d.Defname {
		case "password":
			if s := d.Arg.GetString_(); s != nil {
				pw := s.Sval
				st.Password = &pw
			} else {
				st.ClearPassword = true
			}
		case "canlogin":
			v := d.Arg.GetBoolean().GetBoolval()
			st.Login = &v
		case "superuser":
			v := d.Arg.GetBoolean().GetBoolval()
			st.Superuser = &v
		case "inherit":
			// Roles have no members here, so inheritance changes nothing.
		default:
			b.unsupported(d.Location, "role option "+strings.ToUpper(d.Defname))
		}
	}
}

func (b *binder) grant(g *pg_query.GrantStmt) Statement {
	st := &Grant{params: b.params(), Revoke: !g.IsGrant}
	if g.GrantOption {
		b.unsupported(-1, "WITH GRANT OPTION")
	}
	all := relationPrivileges
	switch {
	case g.Objtype == pg_query.ObjectType_OBJECT_SCHEMA:
		st.Schema, all = true, schemaPrivileges
		for _, o := range g.Objects {
			name := o.GetString_().GetSval()
			if name != "public" {
				b.fail("3F000", -1, "schema %q does not exist", name)
			}
			st.Objects = append(st.Objects, name)
		}
	case g.Objtype == pg_query.ObjectType_OBJECT_TABLE && g.Targtype == pg_query.GrantTargetType_ACL_TARGET_ALL_IN_SCHEMA:
		for _, o := range g.Objects {
			if name := o.GetString_().GetSval(); name != "public" {
				b.fail("3F000", -1, "schema %q does not exist", name)
			}
		}
		for _, r := range b.cat.List(0) {
			st.Objects = append(st.Objects, r.Name)
		}
	case g.Objtype == pg_query.ObjectType_OBJECT_TABLE && g.Targtype == pg_query.GrantTargetType_ACL_TARGET_OBJECT:
		for _, o := range g.Objects {
			rv := o.GetRangeVar()
			if rv == nil {
				continue
			}
			if rv.Schemaname != "" && rv.Schemaname != "public" {
				b.fail(sqlerr.UndefinedTable, rv.Location, "relation \"%s.%s\" does not exist", rv.Schemaname, rv.Relname)
			}
			if _, err := b.cat.Get(rv.Relname); err != nil {
				b.failErr(err, rv.Location)
			}
			st.Objects = append(st.Objects, rv.Relname)
		}
	default:
		b.unsupported(-1, "GRANT on this kind of object (only tables, sources, views and schema public)")
	}
	if len(g.Privileges) == 0 {
		st.Privileges = all
	}
	for _, p := range g.Privileges {
		ap := p.GetAccessPriv()
		if len(ap.GetCols()) > 0 {
			b.unsupported(-1, "column privileges")
		}
		name := strings.ToUpper(ap.GetPrivName())
		if !contains(all, name) {
			what := "a relation"
			if st.Schema {
				what = "a schema"
			}
			b.fail(codeInvalidGrantOperation, -1, "invalid privilege type %s for %s", name, what)
		}
		if !contains(st.Privileges, name) {
			st.Privileges = append(st.Privileges, name)
		}
	}
	for _, r := range g.Grantees {
		rs := r.GetRoleSpec()
		if rs.GetRoletype() == pg_query.RoleSpecType_ROLESPEC_PUBLIC {
			st.Roles = append(st.Roles, "public")
			continue
		}
		st.Roles = append(st.Roles, b.roleName(rs))
	}
	return st
}

// codeInvalidGrantOperation is PostgreSQL's invalid_grant_operation.
const codeInvalidGrantOperation sqlerr.Code = "0LP01"

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Reads is what a query reads, for privilege checks.
type Reads struct {
	// Relations are the Weir relations (sources, tables, views) the query names.
	Relations []string
	// System are the other relations it names outside pg_catalog and
	// information_schema: Weir's weir_ system tables, DuckDB's own catalogs, file paths.
	System []string
	// Functions are the table functions in its FROM clauses (generate_series, …).
	Functions []string
}

// ReadsOf parses one query and lists what it reads. Names of the PostgreSQL catalog
// (pg_class, information_schema.tables, …) and of the query's own CTEs are left out.
func (p *Planner) ReadsOf(sql string) (Reads, error) {
	tree, err := pg_query.Parse(sql)
	if err != nil {
		return Reads{}, parseError(sql, err)
	}
	var r Reads
	roots := make([]*pg_query.Node, len(tree.Stmts))
	for i, s := range tree.Stmts {
		roots[i] = s.Stmt
	}
	rvs, ctes := rangeVars(func(n *pg_query.Node) {
		if v, ok := n.Node.(*pg_query.Node_RangeFunction); ok {
			for _, f := range v.RangeFunction.Functions {
				for _, item := range f.GetList().GetItems() {
					if fc := item.GetFuncCall(); fc != nil && len(fc.Funcname) > 0 {
						r.Functions = append(r.Functions, fc.Funcname[len(fc.Funcname)-1].GetString_().GetSval())
					}
				}
			}
		}
	}, roots...)
	for _, rv := range rvs {
		name := rv.Relname
		switch {
		case rv.Schemaname == "pg_catalog" || rv.Schemaname == "information_schema":
			continue
		case rv.Schemaname != "" && rv.Schemaname != "public":
			r.System = append(r.System, rv.Schemaname+"."+name)
			continue
		case ctes[name] && rv.Schemaname == "":
			continue
		}
		if _, err := p.cat.Get(name); err == nil {
			r.Relations = append(r.Relations, name)
			continue
		}
		if strings.HasPrefix(name, "pg_") && !strings.HasPrefix(name, "weir_") {
			continue
		}
		r.System = append(r.System, name)
	}
	return r, nil
}
