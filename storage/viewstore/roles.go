package viewstore

import (
	"context"
	"database/sql"
	"errors"

	"github.com/weirdb/weir/internal/sqlerr"
)

// Roles and privileges (issue #6, Security). weir_roles holds one row per role, with the
// role's SCRAM-SHA-256 verifier (never a password); weir_grants one row per privilege
// granted: (role, kind, object, privilege), kind "relation" (object: a source, table or
// view) or "schema" (object: public). Role and grant changes commit on their own, outside
// ticks; the catalog emulation's pg_roles reads weir_roles directly.

// RolesTable and GrantsTable are the system tables of roles and granted privileges.
const (
	RolesTable  = "weir_roles"
	GrantsTable = "weir_grants"
)

// Role is a stored role.
type Role struct {
	OID       int64
	Name      string
	Superuser bool
	Login     bool
	Verifier  string // SCRAM-SHA-256$…, or "" for no password
}

// ErrRoleNotFound is returned for a role that does not exist.
var ErrRoleNotFound = errors.New("viewstore: role not found")

// InitRoles creates the role and grant tables if they do not exist.
func (s *Store) InitRoles(ctx context.Context) error {
	for _, q := range []string{
		`CREATE TABLE IF NOT EXISTS ` + RolesTable + ` (oid BIGINT NOT NULL, name VARCHAR PRIMARY KEY, superuser BOOLEAN NOT NULL,
			login BOOLEAN NOT NULL, verifier VARCHAR)`,
		`CREATE TABLE IF NOT EXISTS ` + GrantsTable + ` (role VARCHAR NOT NULL, kind VARCHAR NOT NULL, object VARCHAR NOT NULL,
			privilege VARCHAR NOT NULL, PRIMARY KEY (role, kind, object, privilege))`,
	} {
		if _, err := s.db.ExecContext(ctx, q); err != nil {
			return sqlerr.Wrap(err, sqlerr.Internal, "initialise role tables")
		}
	}
	return nil
}

// Role returns the role named name, or ErrRoleNotFound.
func (s *Store) Role(ctx context.Context, name string) (Role, error) {
	r := Role{Name: name}
	var v sql.NullString
	err := s.db.QueryRowContext(ctx, `SELECT oid, superuser, login, verifier FROM `+RolesTable+` WHERE name = ?`, name).
		Scan(&r.OID, &r.Superuser, &r.Login, &v)
	if errors.Is(err, sql.ErrNoRows) {
		return Role{}, ErrRoleNotFound
	}
	if err != nil {
		return Role{}, sqlerr.Wrap(err, sqlerr.Internal, "read role %q", name)
	}
	r.Verifier = v.String
	return r, nil
}

// PutRole stores r, replacing the role of that name if there is one. An r.OID of 0 keeps
// the existing role's OID, or assigns the next free one (from 16777216, above every
// relation OID Weir hands out in practice) to a new role.
func (s *Store) PutRole(ctx context.Context, r Role) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return sqlerr.Wrap(err, sqlerr.Internal, "store role %q", r.Name)
	}
	defer tx.Rollback()
	if r.OID == 0 {
		err := tx.QueryRowContext(ctx, `SELECT coalesce((SELECT oid FROM `+RolesTable+` WHERE name = ?),
			greatest(16777215, (SELECT max(oid) FROM `+RolesTable+`)) + 1)`, r.Name).Scan(&r.OID)
		if err != nil {
			return sqlerr.Wrap(err, sqlerr.Internal, "store role %q", r.Name)
		}
	}
	var v any
	if r.Verifier != "" {
		v = r.Verifier
	}
	if _, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO `+RolesTable+` VALUES (?, ?, ?, ?, ?)`,
		r.OID, r.Name, r.Superuser, r.Login, v); err != nil {
		return sqlerr.Wrap(err, sqlerr.Internal, "store role %q", r.Name)
	}
	if err := tx.Commit(); err != nil {
		return sqlerr.Wrap(err, sqlerr.Internal, "store role %q", r.Name)
	}
	return nil
}

// DropRole deletes a role and every privilege granted to it. It returns ErrRoleNotFound
// when there is no such role.
func (s *Store) DropRole(ctx context.Context, name string) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return sqlerr.Wrap(err, sqlerr.Internal, "drop role %q", name)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `DELETE FROM `+RolesTable+` WHERE name = ?`, name)
	if err != nil {
		return sqlerr.Wrap(err, sqlerr.Internal, "drop role %q", name)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrRoleNotFound
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM `+GrantsTable+` WHERE role = ?`, name); err != nil {
		return sqlerr.Wrap(err, sqlerr.Internal, "drop role %q", name)
	}
	if err := tx.Commit(); err != nil {
		return sqlerr.Wrap(err, sqlerr.Internal, "drop role %q", name)
	}
	return nil
}

// Grant gives each of roles each of privs on kind/object; revoke takes them away. Granting
// a privilege held already, or revoking one not held, is no error.
func (s *Store) Grant(ctx context.Context, revoke bool, roles []string, kind string, objects, privs []string) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return sqlerr.Wrap(err, sqlerr.Internal, "grant")
	}
	defer tx.Rollback()
	q := `INSERT OR IGNORE INTO ` + GrantsTable + ` VALUES (?, ?, ?, ?)`
	if revoke {
		q = `DELETE FROM ` + GrantsTable + ` WHERE role = ? AND kind = ? AND object = ? AND privilege = ?`
	}
	for _, r := range roles {
		for _, o := range objects {
			for _, p := range privs {
				if _, err := tx.ExecContext(ctx, q, r, kind, o, p); err != nil {
					return sqlerr.Wrap(err, sqlerr.Internal, "grant %s on %s to %s", p, o, r)
				}
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return sqlerr.Wrap(err, sqlerr.Internal, "grant")
	}
	return nil
}

// HasPrivilege reports whether any of roles holds priv on kind/object.
func (s *Store) HasPrivilege(ctx context.Context, roles []string, kind, object, priv string) (bool, error) {
	for _, r := range roles {
		var n int
		err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM `+GrantsTable+` WHERE role = ? AND kind = ? AND object = ? AND privilege = ?`,
			r, kind, object, priv).Scan(&n)
		if err != nil {
			return false, sqlerr.Wrap(err, sqlerr.Internal, "read privileges of %q", r)
		}
		if n > 0 {
			return true, nil
		}
	}
	return false, nil
}

// DropGrants forgets every privilege on kind/object, for an object that was dropped (a
// new object of the same name starts with none).
func (s *Store) DropGrants(ctx context.Context, kind, object string) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM `+GrantsTable+` WHERE kind = ? AND object = ?`, kind, object); err != nil {
		return sqlerr.Wrap(err, sqlerr.Internal, "drop privileges on %q", object)
	}
	return nil
}

// PruneGrants forgets the privileges on every kind object for which keep is false (the
// relations that no longer exist).
func (s *Store) PruneGrants(ctx context.Context, kind string, keep func(object string) bool) error {
	rows, err := s.db.QueryContext(ctx, `SELECT DISTINCT object FROM `+GrantsTable+` WHERE kind = ?`, kind)
	if err != nil {
		return sqlerr.Wrap(err, sqlerr.Internal, "read privileges")
	}
	var gone []string
	for rows.Next() {
		var o string
		if err := rows.Scan(&o); err != nil {
			rows.Close()
			return sqlerr.Wrap(err, sqlerr.Internal, "read privileges")
		}
		if !keep(o) {
			gone = append(gone, o)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return sqlerr.Wrap(err, sqlerr.Internal, "read privileges")
	}
	for _, o := range gone {
		if err := s.DropGrants(ctx, kind, o); err != nil {
			return err
		}
	}
	return nil
}
