package weir_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/stretchr/testify/require"
)

// TestIntervalAndJsonbOverTheWire checks interval and jsonb at the edges: pgx parameters
// (binary interval, jsonb with its version byte), ad-hoc reads (interval with OID 1186 in
// text and binary), SUBSCRIBE (jsonb with OID 3802, interval in binary), and HTTP ingest
// and view output (any JSON value into a jsonb column, raw JSON out).
func TestIntervalAndJsonbOverTheWire(t *testing.T) {
	if testing.Short() {
		t.Skip("client tests run in the full suite")
	}
	srv := startServer(t)
	dsn := "postgres://weir@" + srv.PGAddr() + "/weir?sslmode=disable"
	ctx := t.Context()
	conn, err := pgx.Connect(ctx, dsn)
	require.NoError(t, err)
	defer conn.Close(context.Background())

	for _, q := range []string{
		`CREATE SOURCE ev (id bigint, payload jsonb, dur interval)`,
		`CREATE MATERIALIZED VIEW ev_v AS SELECT id, payload, payload -> 'k' AS k, dur, dur * 2 AS twice FROM ev`,
	} {
		_, err := conn.Exec(ctx, q)
		require.NoError(t, err, q)
	}
	// Binary parameters: time.Duration and pgtype.Interval go out as interval, a map as
	// jsonb (version byte 1 and the JSON text).
	_, err = conn.Exec(ctx, `INSERT INTO ev VALUES ($1, $2, $3)`, int64(1), map[string]any{"k": []any{1, 2.5}, "b": true}, 90*time.Minute)
	require.NoError(t, err)
	_, err = conn.Exec(ctx, `INSERT INTO ev VALUES ($1, $2, $3)`, int64(2), `{"k": "v", "a": 1.50}`, pgtype.Interval{Months: 1, Days: -1, Microseconds: 7200e6, Valid: true})
	require.NoError(t, err)

	// An ad-hoc read: interval is OID 1186, in text and in binary.
	rows, err := conn.Query(ctx, `SELECT dur, twice FROM ev_v ORDER BY id`)
	require.NoError(t, err)
	require.Equal(t, uint32(1186), rows.FieldDescriptions()[0].DataTypeOID)
	var got []pgtype.Interval
	for rows.Next() {
		var a, b pgtype.Interval
		require.NoError(t, rows.Scan(&a, &b))
		got = append(got, a, b)
	}
	require.NoError(t, rows.Err())
	require.Equal(t, []pgtype.Interval{
		{Microseconds: 5400e6, Valid: true}, {Microseconds: 10800e6, Valid: true},
		{Months: 1, Days: -1, Microseconds: 7200e6, Valid: true}, {Months: 2, Days: -2, Microseconds: 14400e6, Valid: true},
	}, got)
	var text string
	require.NoError(t, conn.QueryRow(ctx, `SELECT dur FROM ev WHERE id = 2`, pgx.QueryResultFormats{pgx.TextFormatCode}).Scan(&text))
	require.Equal(t, "1 mon -1 days +02:00:00", text)
	var payload string
	require.NoError(t, conn.QueryRow(ctx, `SELECT payload FROM ev_v WHERE id = 1`).Scan(&payload))
	require.Equal(t, `{"b": true, "k": [1, 2.5]}`, payload, "stored in canonical form")

	// SUBSCRIBE knows the view's types: jsonb is OID 3802.
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	r, err := pgx.Connect(ctx, dsn)
	require.NoError(t, err)
	defer r.Close(context.Background())
	sub, err := r.Query(sctx, `SUBSCRIBE ev_v`)
	require.NoError(t, err)
	fds := sub.FieldDescriptions()
	require.Equal(t, uint32(3802), fds[3].DataTypeOID)
	require.Equal(t, uint32(3802), fds[4].DataTypeOID)
	require.Equal(t, uint32(1186), fds[5].DataTypeOID)
	seen := map[int64]string{}
	for len(seen) < 2 && sub.Next() {
		var ts, diff, id int64
		var p, kAny any
		var dur, twice pgtype.Interval
		require.NoError(t, sub.Scan(&ts, &diff, &id, &p, &kAny, &dur, &twice))
		b, _ := json.Marshal(kAny)
		seen[id] = string(b)
		if id == 1 {
			require.Equal(t, pgtype.Interval{Microseconds: 5400e6, Valid: true}, dur)
		}
	}
	require.Equal(t, map[int64]string{1: `[1,2.5]`, 2: `"v"`}, seen)
	cancel()
	for sub.Next() {
	}
	sub.Close()

	// HTTP: any JSON value goes into a jsonb column (JSON null is SQL NULL), bad interval
	// text is a row error; the view comes back with jsonb as raw JSON.
	body := `[{"id": 3, "payload": [1, {"x": null}], "dur": "1 day 02:00"}, {"id": 4, "payload": null}, {"id": 5, "payload": 7.50},` +
		` {"id": 6, "dur": "5 parsecs"}]`
	resp, err := http.Post("http://"+srv.HTTPAddr()+"/v1/sources/ev/events", "application/json", bytes.NewBufferString(body))
	require.NoError(t, err)
	msg, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusBadRequest, resp.StatusCode, string(msg))
	require.Contains(t, string(msg), `"ingested":3`)
	require.Contains(t, string(msg), "22007")

	resp, err = http.Get("http://" + srv.HTTPAddr() + "/v1/views/ev_v")
	require.NoError(t, err)
	var view []map[string]json.RawMessage
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&view))
	resp.Body.Close()
	byID := map[string]map[string]json.RawMessage{}
	for _, row := range view {
		byID[string(row["id"])] = row
	}
	require.JSONEq(t, `[1, {"x": null}]`, string(byID["3"]["payload"]))
	require.Equal(t, `"1 day 02:00:00"`, string(byID["3"]["dur"]))
	require.Equal(t, `null`, string(byID["4"]["payload"]))
	require.Equal(t, `7.50`, string(byID["5"]["payload"]), "numbers keep their text")
	require.Equal(t, `"1 mon -1 days +02:00:00"`, string(byID["2"]["dur"]))
}
