package weir_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/lib/pq"
	"github.com/stretchr/testify/require"
)

const clientSchema = `
CREATE SOURCE gifts (room_id bigint NOT NULL, user_id bigint NOT NULL, price integer NOT NULL, ts timestamptz NOT NULL);
CREATE TABLE rooms (room_id bigint PRIMARY KEY, category text);
CREATE MATERIALIZED VIEW revenue AS SELECT g.room_id, r.category, sum(g.price) AS total, count(*) AS n FROM gifts g JOIN rooms r ON g.room_id = r.room_id GROUP BY g.room_id, r.category;
`

// TestClients drives one server with the drivers users have: pgx (extended protocol,
// binary parameters) and lib/pq (text parameters), including parameters and SQLSTATEs.
func TestClients(t *testing.T) {
	if testing.Short() {
		t.Skip("client tests run in the full suite")
	}
	srv := startServer(t)
	dsn := "postgres://weir@" + srv.PGAddr() + "/weir?sslmode=disable"
	ctx := t.Context()

	t.Run("pgx", func(t *testing.T) {
		conn, err := pgx.Connect(ctx, dsn)
		require.NoError(t, err)
		defer conn.Close(context.Background())
		_, err = conn.Exec(ctx, clientSchema)
		require.NoError(t, err)
		for _, r := range []struct {
			id  int64
			cat string
		}{{1, "music"}, {2, "gaming"}} {
			_, err = conn.Exec(ctx, "INSERT INTO rooms VALUES ($1, $2)", r.id, r.cat)
			require.NoError(t, err)
		}
		ts := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
		for i := 0; i < 5; i++ {
			_, err = conn.Exec(ctx, "INSERT INTO gifts VALUES ($1, $2, $3, $4)", int64(1+i%2), int64(100+i), int32(10*(i+1)), ts)
			require.NoError(t, err)
		}
		var total, n int64
		var cat string
		err = conn.QueryRow(ctx, "SELECT category, total, n FROM revenue WHERE room_id = $1", int64(1)).Scan(&cat, &total, &n)
		require.NoError(t, err)
		require.Equal(t, "music", cat)
		require.Equal(t, int64(10+30+50), total)
		require.Equal(t, int64(3), n)

		_, err = conn.Exec(ctx, "UPDATE rooms SET category = $1 WHERE room_id = $2", "chat", int64(1))
		require.NoError(t, err)
		err = conn.QueryRow(ctx, "SELECT category FROM revenue WHERE room_id = $1", int64(1)).Scan(&cat)
		require.NoError(t, err)
		require.Equal(t, "chat", cat)

		var ts2 time.Time
		require.NoError(t, conn.QueryRow(ctx, "SELECT max(ts) FROM gifts").Scan(&ts2))
		require.True(t, ts.Equal(ts2), "%v != %v", ts, ts2)

		var pe *pgconn.PgError
		_, err = conn.Exec(ctx, "SELECT * FROM nope")
		require.True(t, errors.As(err, &pe), "%v", err)
		require.Equal(t, "42P01", pe.Code)
		_, err = conn.Exec(ctx, "INSERT INTO gifts VALUES ($1, $2, $3, $4)", nil, int64(1), int32(1), ts)
		require.True(t, errors.As(err, &pe), "%v", err)
		require.Equal(t, "23502", pe.Code)
		_, err = conn.Exec(ctx, "CREATE MATERIALIZED VIEW v AS SELECT room_id, nope FROM gifts")
		require.True(t, errors.As(err, &pe), "%v", err)
		require.Equal(t, "42703", pe.Code)
		require.Equal(t, int32(47), pe.Position, "position of 'nope'")
		// The connection still works after errors.
		require.NoError(t, conn.QueryRow(ctx, "SELECT count(*) FROM gifts").Scan(&n))
		require.Equal(t, int64(5), n)
	})

	t.Run("lib/pq", func(t *testing.T) {
		db, err := sql.Open("postgres", dsn)
		require.NoError(t, err)
		defer db.Close()
		_, err = db.ExecContext(ctx, "INSERT INTO gifts VALUES ($1, $2, $3, $4)", 2, 200, 7, "2026-01-01 13:00:00+00")
		require.NoError(t, err)
		var total int64
		require.NoError(t, db.QueryRowContext(ctx, "SELECT total FROM revenue WHERE room_id = $1", 2).Scan(&total))
		require.Equal(t, int64(20+40+7), total)
		rows, err := db.QueryContext(ctx, "SELECT room_id, category FROM rooms ORDER BY room_id")
		require.NoError(t, err)
		var got []string
		for rows.Next() {
			var id int64
			var c string
			require.NoError(t, rows.Scan(&id, &c))
			got = append(got, c)
		}
		require.NoError(t, rows.Err())
		require.Equal(t, []string{"chat", "gaming"}, got)

		_, err = db.ExecContext(ctx, "SELEC 1")
		var pqe *pq.Error
		require.True(t, errors.As(err, &pqe), "%v", err)
		require.Equal(t, pq.ErrorCode("42601"), pqe.Code)
		require.Equal(t, "1", pqe.Position)
		_, err = db.ExecContext(ctx, "INSERT INTO gifts VALUES ($1, $2, $3, $4)", "x", 1, 1, "2026-01-01")
		require.True(t, errors.As(err, &pqe), "%v", err)
		require.Equal(t, pq.ErrorCode("22P02"), pqe.Code)
	})

	t.Run("http", func(t *testing.T) {
		base := "http://" + srv.HTTPAddr()
		body := `{"room_id": 2, "user_id": 9, "price": 3, "ts": "2026-01-01T14:00:00Z"}
{"room_id": "two", "user_id": 9, "price": 3, "ts": "2026-01-01T14:00:00Z"}
{"room_id": 2, "user_id": 9, "price": 4, "ts": "2026-01-01T14:00:01Z"}
`
		resp, err := http.Post(base+"/v1/sources/gifts/events", "application/x-ndjson", bytes.NewBufferString(body))
		require.NoError(t, err)
		var e struct { // application/problem+json
			SQLState string `json:"sqlstate"`
			Rows     []struct {
				Row    int
				Column string
			}
			Ingested int
		}
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&e))
		resp.Body.Close()
		require.Equal(t, http.StatusBadRequest, resp.StatusCode)
		require.Equal(t, "22P02", e.SQLState)
		require.Equal(t, "application/problem+json", resp.Header.Get("Content-Type"))
		require.Len(t, e.Rows, 1)
		require.Equal(t, 2, e.Rows[0].Row)
		require.Equal(t, "room_id", e.Rows[0].Column)
		require.Equal(t, 2, e.Ingested, "the good rows of the request are kept")

		resp, err = http.Get(base + "/v1/views/revenue")
		require.NoError(t, err)
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode, string(raw))
		var rows []map[string]any
		require.NoError(t, json.Unmarshal(raw, &rows))
		totals := map[float64]float64{}
		for _, r := range rows {
			totals[r["room_id"].(float64)] = r["total"].(float64)
		}
		require.Equal(t, map[float64]float64{1: 90, 2: 74}, totals)

		resp, err = http.Get(base + "/v1/views/nope")
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusNotFound, resp.StatusCode)
	})
}

// TestSubscribeOverWire: SUBSCRIBE streams a view's contents, then each tick's changes as
// (weir_ts, weir_diff, columns…) rows, to a driver as they happen; cancelling ends it.
func TestSubscribeOverWire(t *testing.T) {
	if testing.Short() {
		t.Skip("client tests run in the full suite")
	}
	srv := startServer(t)
	dsn := "postgres://weir@" + srv.PGAddr() + "/weir?sslmode=disable"
	ctx := t.Context()
	w, err := pgx.Connect(ctx, dsn)
	require.NoError(t, err)
	defer w.Close(context.Background())
	for _, q := range []string{
		`CREATE SOURCE likes (room bigint NOT NULL)`,
		`INSERT INTO likes VALUES (1), (1), (2)`,
		`CREATE MATERIALIZED VIEW per_room AS SELECT room, count(*) AS n FROM likes GROUP BY room`,
	} {
		_, err := w.Exec(ctx, q)
		require.NoError(t, err)
	}
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	r, err := pgx.Connect(ctx, dsn)
	require.NoError(t, err)
	defer r.Close(context.Background())
	rows, err := r.Query(sctx, "SUBSCRIBE per_room")
	require.NoError(t, err)
	type change struct{ diff, room, n int64 }
	read := func(k int) []change {
		var out []change
		for len(out) < k && rows.Next() {
			var ts int64
			var c change
			require.NoError(t, rows.Scan(&ts, &c.diff, &c.room, &c.n))
			require.Positive(t, ts)
			out = append(out, c)
		}
		require.Len(t, out, k, "rows ended early: %v", rows.Err())
		return out
	}
	require.ElementsMatch(t, []change{{1, 1, 2}, {1, 2, 1}}, read(2))
	_, err = w.Exec(ctx, `INSERT INTO likes VALUES (2)`)
	require.NoError(t, err)
	require.ElementsMatch(t, []change{{-1, 2, 1}, {1, 2, 2}}, read(2), "the change arrives while the statement runs")
	cancel()
	for rows.Next() {
	}
	require.Error(t, rows.Err())
	rows.Close()
}
