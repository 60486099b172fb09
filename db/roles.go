package db

import (
	"context"
	"errors"
	"strings"

	"github.com/weirdb/weir/internal/scram"
	"github.com/weirdb/weir/internal/sqlerr"
	"github.com/weirdb/weir/planner"
	"github.com/weirdb/weir/storage/viewstore"
)

// Roles and privileges (issue #6, Security).
//
// Roles live in the view store (storage/viewstore/roles.go) with a SCRAM-SHA-256
// verifier, never a password. The bootstrap superuser is BootstrapRole ("weir", OID 10),
// present from the first Open. A session opened with NewSession (trust authentication,
// the HTTP API) acts as that superuser whatever user name the client gave, as before
// roles existed; NewRoleSession opens one as an authenticated role, whose privileges
// every statement is checked against when it is not a superuser:
//
//   - CREATE … and DROP … need CREATE on schema public (42501 "permission denied for
//     schema public"); the creator of a relation is granted ALL on it.
//   - INSERT and COPY FROM need INSERT, UPDATE needs UPDATE, DELETE needs DELETE on the
//     relation; SELECT, SUBSCRIBE, COPY TO and cursors need SELECT on every relation read
//     (42501 "permission denied for table x"). A view's creator needs SELECT on what it reads.
//   - Reads may use the PostgreSQL catalog and a few table functions (generate_series,
//     unnest, …) but not Weir's weir_ system tables, DuckDB's catalogs or files.
//   - CREATE/ALTER/DROP ROLE, GRANT and REVOKE are for superusers.
//
// Privileges granted to PUBLIC count for every role. A role's superuser attribute is read
// when its session starts.

// BootstrapRole is the superuser every database has (DESIGN §1's psql -U weir).
const BootstrapRole = "weir"

const (
	bootstrapOID = 10 // PostgreSQL's BOOTSTRAP_SUPERUSERID
	kindRelation = "relation"
	kindSchema   = "schema"
)

// sessionRole is the role a NewRoleSession acts as.
type sessionRole struct {
	name      string
	superuser bool
}

// installRoles creates the role tables and the bootstrap superuser. It runs at every
// Open, before the catalog views that read the roles (installCatalog).
func (d *DB) installRoles(ctx context.Context) error {
	if err := d.store.InitRoles(ctx); err != nil {
		return err
	}
	_, err := d.store.Role(ctx, BootstrapRole)
	if errors.Is(err, viewstore.ErrRoleNotFound) {
		return d.store.PutRole(ctx, viewstore.Role{OID: bootstrapOID, Name: BootstrapRole, Superuser: true, Login: true})
	}
	return err
}

// RoleVerifier returns role name's SCRAM-SHA-256 verifier ("" when it does not exist or
// has no password) and whether it may log in, for password authentication. It fails with
// 57P03 until recovery has finished.
func (d *DB) RoleVerifier(ctx context.Context, name string) (verifier string, login bool, err error) {
	if err := d.checkReady(); err != nil {
		return "", false, err
	}
	r, err := d.store.Role(ctx, name)
	if errors.Is(err, viewstore.ErrRoleNotFound) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	return r.Verifier, r.Login, nil
}

// NewRoleSession opens a session for params["user"], a role that has authenticated:
// statements are checked against its privileges unless it is a superuser.
func (d *DB) NewRoleSession(ctx context.Context, params map[string]string) (*Session, error) {
	name := params["user"]
	r, err := d.store.Role(ctx, name)
	if errors.Is(err, viewstore.ErrRoleNotFound) {
		return nil, sqlerr.New("28000", "role %q does not exist", name)
	}
	if err != nil {
		return nil, err
	}
	s := d.NewSession(params)
	s.role = &sessionRole{name: name, superuser: r.Superuser}
	if !r.Superuser {
		s.settings["is_superuser"] = "off"
	}
	return s, nil
}

// SetRolePassword bootstraps a login role from weir serve's --users file or
// WEIR_PASSWORD: it creates role name if it does not exist (a superuser if it is
// BootstrapRole, a plain LOGIN role otherwise) and sets its password. password may be a
// SCRAM-SHA-256 verifier, stored as given.
func (d *DB) SetRolePassword(ctx context.Context, name, password string) error {
	v, err := verifierOf(password)
	if err != nil {
		return err
	}
	r, err := d.store.Role(ctx, name)
	switch {
	case errors.Is(err, viewstore.ErrRoleNotFound):
		r = viewstore.Role{Name: name, Login: true, Superuser: name == BootstrapRole}
	case err != nil:
		return err
	}
	r.Verifier = v
	return d.store.PutRole(ctx, r)
}

// verifierOf returns the verifier to store for password: password itself when it is
// one already, otherwise a new one with a random salt.
func verifierOf(password string) (string, error) {
	if scram.IsVerifier(password) {
		return password, nil
	}
	if password == "" {
		return "", sqlerr.New(sqlerr.InvalidParameterValue, "empty password")
	}
	v, err := scram.Hash(password)
	if err != nil {
		return "", sqlerr.Wrap(err, sqlerr.Internal, "hash password")
	}
	return v.String(), nil
}

// execRole runs role and privilege statements; ok is false for any other statement.
func (s *Session) execRole(ctx context.Context, st planner.Statement) (rows *Rows, ok bool, err error) {
	d := s.db
	switch st := st.(type) {
	case *planner.CreateRole:
		if strings.HasPrefix(st.Name, "pg_") || st.Name == "public" {
			return nil, true, sqlerr.New("42939", "role name %q is reserved", st.Name)
		}
		if _, err := d.store.Role(ctx, st.Name); err == nil {
			return nil, true, sqlerr.New(sqlerr.DuplicateObject, "role %q already exists", st.Name)
		} else if !errors.Is(err, viewstore.ErrRoleNotFound) {
			return nil, true, err
		}
		r := viewstore.Role{Name: st.Name, Login: st.Login, Superuser: st.Superuser}
		if st.Password != nil {
			if r.Verifier, err = verifierOf(*st.Password); err != nil {
				return nil, true, err
			}
		}
		return tagOnly("CREATE ROLE"), true, d.store.PutRole(ctx, r)
	case *planner.AlterRole:
		r, err := d.store.Role(ctx, st.Name)
		if errors.Is(err, viewstore.ErrRoleNotFound) {
			return nil, true, sqlerr.New(sqlerr.UndefinedObject, "role %q does not exist", st.Name)
		} else if err != nil {
			return nil, true, err
		}
		if st.Login != nil {
			r.Login = *st.Login
		}
		if st.Superuser != nil {
			if st.Name == BootstrapRole && !*st.Superuser {
				return nil, true, sqlerr.New(sqlerr.FeatureNotSupported, "permission denied to alter role: the bootstrap superuser %q must stay a superuser", BootstrapRole)
			}
			r.Superuser = *st.Superuser
		}
		if st.ClearPassword {
			r.Verifier = ""
		}
		if st.Password != nil {
			if r.Verifier, err = verifierOf(*st.Password); err != nil {
				return nil, true, err
			}
		}
		return tagOnly("ALTER ROLE"), true, d.store.PutRole(ctx, r)
	case *planner.DropRole:
		for _, name := range st.Names {
			if name == BootstrapRole {
				return nil, true, sqlerr.New("55006", "cannot drop role %s because it is required by the database system", name)
			}
			if s.role != nil && s.role.name == name {
				return nil, true, sqlerr.New("55006", "current user cannot be dropped")
			}
			err := d.store.DropRole(ctx, name)
			if errors.Is(err, viewstore.ErrRoleNotFound) {
				if st.IfExists {
					continue
				}
				return nil, true, sqlerr.New(sqlerr.UndefinedObject, "role %q does not exist", name)
			}
			if err != nil {
				return nil, true, err
			}
		}
		return tagOnly("DROP ROLE"), true, nil
	case *planner.Grant:
		for _, r := range st.Roles {
			if r == "public" {
				continue
			}
			if _, err := d.store.Role(ctx, r); errors.Is(err, viewstore.ErrRoleNotFound) {
				return nil, true, sqlerr.New(sqlerr.UndefinedObject, "role %q does not exist", r)
			} else if err != nil {
				return nil, true, err
			}
		}
		kind, tag := kindRelation, "GRANT"
		if st.Schema {
			kind = kindSchema
		}
		if st.Revoke {
			tag = "REVOKE"
		}
		return tagOnly(tag), true, d.store.Grant(ctx, st.Revoke, st.Roles, kind, st.Objects, st.Privileges)
	}
	return nil, false, nil
}

// restricted reports whether the session's statements are checked against privileges.
func (s *Session) restricted() bool { return s.role != nil && !s.role.superuser }

// authorize checks that the session may run st (see the package comment above).
func (s *Session) authorize(ctx context.Context, st planner.Statement) error {
	if !s.restricted() {
		return nil
	}
	switch st := st.(type) {
	case *planner.CreateRole, *planner.AlterRole, *planner.DropRole, *planner.Grant:
		return sqlerr.New(sqlerr.InsufficientPrivilege, "permission denied: only superusers manage roles and privileges")
	case *planner.CreateRelation:
		return s.need(ctx, kindSchema, "public", "CREATE")
	case *planner.CreateView:
		if err := s.need(ctx, kindSchema, "public", "CREATE"); err != nil {
			return err
		}
		for _, r := range st.Rel.DependsOn {
			if err := s.need(ctx, kindRelation, r, "SELECT"); err != nil {
				return err
			}
		}
	case *planner.Drop:
		return s.need(ctx, kindSchema, "public", "CREATE")
	case *planner.Insert:
		return s.need(ctx, kindRelation, st.Rel.Name, "INSERT")
	case *planner.Update:
		return s.need(ctx, kindRelation, st.Rel.Name, "UPDATE")
	case *planner.Delete:
		return s.need(ctx, kindRelation, st.Rel.Name, "DELETE")
	case *planner.Subscribe:
		return s.need(ctx, kindRelation, st.Name, "SELECT")
	case *planner.Copy:
		switch {
		case st.From:
			return s.need(ctx, kindRelation, st.Rel.Name, "INSERT")
		case st.Rel != nil:
			return s.need(ctx, kindRelation, st.Rel.Name, "SELECT")
		}
		return s.authorizeRead(ctx, st.Query)
	case *planner.Declare:
		inner, err := s.db.planner.Plan(st.Query, nil)
		if err != nil {
			return err
		}
		return s.authorize(ctx, inner)
	case *planner.Read:
		return s.authorizeRead(ctx, st.SQL)
	case *planner.CreateSink: // a sink copies the view out: CREATE, and SELECT on the view
		if err := s.need(ctx, kindSchema, "public", "CREATE"); err != nil {
			return err
		}
		return s.need(ctx, kindRelation, st.From, "SELECT")
	case *planner.DropSink:
		return s.need(ctx, kindSchema, "public", "CREATE")
	}
	return nil
}

// readableFunctions are the table functions a restricted role may read from.
var readableFunctions = setOf("generate_series", "generate_subscripts", "unnest", "range", "pg_get_keywords",
	"json_each", "json_each_text", "jsonb_each", "jsonb_each_text", "json_array_elements", "jsonb_array_elements",
	"json_array_elements_text", "jsonb_array_elements_text", "regexp_split_to_table", "string_to_table",
	"pg_options_to_table", "regexp_matches")

func (s *Session) authorizeRead(ctx context.Context, sql string) error {
	reads, err := s.db.planner.ReadsOf(sql)
	if err != nil {
		return err
	}
	if len(reads.System) > 0 {
		return sqlerr.New(sqlerr.InsufficientPrivilege, "permission denied for table %s", reads.System[0])
	}
	for _, f := range reads.Functions {
		if !readableFunctions[strings.ToLower(f)] {
			return sqlerr.New(sqlerr.InsufficientPrivilege, "permission denied for function %s", f)
		}
	}
	for _, name := range reads.Relations {
		if err := s.need(ctx, kindRelation, name, "SELECT"); err != nil {
			return err
		}
	}
	return nil
}

// need fails with 42501 unless the session's role, or PUBLIC, holds priv on kind/object.
func (s *Session) need(ctx context.Context, kind, object, priv string) error {
	ok, err := s.db.store.HasPrivilege(ctx, []string{s.role.name, "public"}, kind, object, priv)
	if err != nil || ok {
		return err
	}
	if kind == kindSchema {
		return sqlerr.New(sqlerr.InsufficientPrivilege, "permission denied for schema %s", object)
	}
	return sqlerr.New(sqlerr.InsufficientPrivilege, "permission denied for table %s", object)
}

// afterDDL keeps privileges in step with the catalog after st ran: a restricted role
// that created a relation is granted ALL on it, and the privileges on dropped relations
// (cascades included) are forgotten, so a new relation of the same name starts with none.
func (s *Session) afterDDL(ctx context.Context, st planner.Statement) error {
	d := s.db
	switch st := st.(type) {
	case *planner.CreateRelation, *planner.CreateView:
		if !s.restricted() {
			return nil
		}
		var name string
		if c, ok := st.(*planner.CreateRelation); ok {
			name = c.Rel.Name
		} else {
			name = st.(*planner.CreateView).Rel.Name
		}
		return d.store.Grant(ctx, false, []string{s.role.name}, kindRelation, []string{name}, []string{"SELECT", "INSERT", "UPDATE", "DELETE"})
	case *planner.Drop:
		return d.store.PruneGrants(ctx, kindRelation, func(name string) bool {
			_, err := d.cat.Get(name)
			return err == nil
		})
	}
	return nil
}
