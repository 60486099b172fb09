#!/usr/bin/python3
"""psycopg 3 against a Weir server (TestExternalClients/python).

Usage: /usr/bin/python3 client.py DSN

Runs DDL, parameterised INSERTs and SELECTs (int8, numeric, text, timestamptz, bool), a
server-side cursor, a SUBSCRIBE cursor with FETCH … WITH (timeout), and a cancel of a
blocking FETCH, which must end with SQLSTATE 57014. Prints one line per check; exits 1 at
the first failure.
"""

import datetime
import decimal
import sys
import threading

import psycopg

# PostgreSQL type OIDs, as cursor.description reports them.
INT8, NUMERIC, TEXT, BOOL, TIMESTAMPTZ = 20, 1700, 25, 16, 1184


def ok(name):
    print("ok  ", name, flush=True)


def fail(name, detail):
    print("FAIL", name + ":", detail, flush=True)
    sys.exit(1)


def check(name, got, want):
    if got != want:
        fail(name, "got %r, want %r" % (got, want))
    ok(name)


def main():
    if len(sys.argv) != 2:
        print("usage: client.py DSN", file=sys.stderr)
        sys.exit(2)
    dsn = sys.argv[1]
    print("psycopg", psycopg.__version__, "libpq", psycopg.pq.version(), flush=True)

    with psycopg.connect(dsn, autocommit=True, connect_timeout=10) as conn:
        ddl(conn)
        insert(conn)
        select(conn)
    with psycopg.connect(dsn, connect_timeout=10) as conn:
        server_cursor(conn)
    with psycopg.connect(dsn, autocommit=True, connect_timeout=10) as conn:
        subscribe(conn)
        cancel(conn)
    print("python: all checks passed", flush=True)


def ddl(conn):
    conn.execute(
        "CREATE SOURCE py_gifts (room_id bigint NOT NULL, user_id bigint NOT NULL, "
        "amount numeric(10,2) NOT NULL, note text, vip boolean NOT NULL, ts timestamptz NOT NULL)"
    )
    conn.execute(
        "CREATE MATERIALIZED VIEW py_rooms AS SELECT room_id, count(*) AS n, sum(amount) AS total, "
        "max(note) AS last_note, count(*) > 1 AS busy, max(ts) AS last_ts FROM py_gifts GROUP BY room_id"
    )
    names = [r[0] for r in conn.execute("SHOW MATERIALIZED VIEWS")]
    if "py_rooms" not in names:
        fail("ddl", "py_rooms not in SHOW MATERIALIZED VIEWS: %r" % names)
    ok("ddl: CREATE SOURCE, CREATE MATERIALIZED VIEW")


T0 = datetime.datetime(2026, 1, 1, 12, 0, 0, tzinfo=datetime.timezone.utc)

GIFTS = [
    (1, 100, decimal.Decimal("12.50"), "first", True, T0),
    (1, 101, decimal.Decimal("0.25"), "second", False, T0 + datetime.timedelta(seconds=1, microseconds=500000)),
    (2, 102, decimal.Decimal("3.00"), None, False, T0 + datetime.timedelta(seconds=2)),
]


def insert(conn):
    with conn.cursor() as cur:
        for g in GIFTS:
            cur.execute("INSERT INTO py_gifts VALUES (%s, %s, %s, %s, %s, %s)", g)
            check("insert %d: rowcount" % g[1], cur.rowcount, 1)
        # executemany goes through the same Parse/Bind path with a prepared statement.
        cur.executemany(
            "INSERT INTO py_gifts (room_id, user_id, amount, note, vip, ts) VALUES (%s, %s, %s, %s, %s, %s)",
            [(3, 200 + i, decimal.Decimal(i), "many", False, T0) for i in range(3)],
        )
        ok("executemany")


def select(conn):
    with conn.cursor() as cur:
        # A view's numeric column reads back as exact text (OID 25): the view store keeps
        # numeric as text, so the cast asks for numeric on the wire.
        cur.execute(
            "SELECT room_id, n, total::numeric(12,2) AS total, last_note, busy, last_ts FROM py_rooms "
            "WHERE room_id = %s", (1,)
        )
        check(
            "select: column types",
            [d.type_code for d in cur.description],
            [INT8, INT8, NUMERIC, TEXT, BOOL, TIMESTAMPTZ],
        )
        check("select: column names", [d.name for d in cur.description],
              ["room_id", "n", "total", "last_note", "busy", "last_ts"])
        row = cur.fetchone()
        want = (1, 2, decimal.Decimal("12.75"), "second", True, T0 + datetime.timedelta(seconds=1, microseconds=500000))
        check("select: values", row, want)
        check("select: Python types", [type(v).__name__ for v in row],
              ["int", "int", "Decimal", "str", "bool", "datetime"])
        if row[5].utcoffset() is None:
            fail("select: timestamptz", "no time zone in %r" % row[5])
        ok("select: timestamptz is zone-aware")

        # A numeric parameter is cast to text for DuckDB unless the query casts it.
        cur.execute("SELECT room_id, last_note, busy FROM py_rooms WHERE total::numeric(12,2) >= %s::numeric(12,2) "
                    "ORDER BY room_id",
                    (decimal.Decimal("3"),))
        check("select: numeric parameter", cur.fetchall(), [(1, "second", True), (2, None, False), (3, "many", True)])

        cur.execute("SELECT count(*) FROM py_gifts WHERE note = %s AND vip = %s", ("first", True))
        check("select: text and bool parameters", cur.fetchone(), (1,))

        cur.execute("SELECT amount FROM py_gifts WHERE user_id = %s", (100,))
        check("select: source numeric(10,2) type", cur.description[0].type_code, NUMERIC)
        check("select: source numeric(10,2) value", cur.fetchone(), (decimal.Decimal("12.50"),))

        cur.execute("SELECT %s::bigint + 1, %s::text", (41, "x"), prepare=True)
        check("select: prepared statement", cur.fetchone(), (42, "x"))

        try:
            cur.execute("SELECT * FROM py_nope WHERE x = %s", (1,))
            fail("select: error", "no error for a missing relation")
        except psycopg.Error as e:
            check("select: SQLSTATE of a missing relation", e.sqlstate, "42P01")


def server_cursor(conn):
    """A named (server-side) cursor: DECLARE … CURSOR, then FETCH in batches, in a transaction
    (conn is not in autocommit: psycopg sends BEGIN first)."""
    with conn.cursor(name="py_cur") as cur:
        cur.itersize = 2
        cur.execute("SELECT user_id, amount FROM py_gifts WHERE room_id = 3 ORDER BY user_id")
        check("server cursor: fetchmany", cur.fetchmany(2), [(200, decimal.Decimal("0")), (201, decimal.Decimal("1"))])
        check("server cursor: rest", cur.fetchall(), [(202, decimal.Decimal("2"))])
    with conn.cursor(name="py_cur_params") as cur:
        # DECLARE … FOR SELECT … $1, $2 over the extended protocol: Describe reports the
        # query's parameters and Bind passes them.
        cur.execute("SELECT user_id, amount FROM py_gifts WHERE room_id = %s AND user_id > %s ORDER BY user_id", (3, 200))
        check("server cursor with parameters", cur.fetchall(), [(201, decimal.Decimal("1")), (202, decimal.Decimal("2"))])
    conn.commit()
    ok("server cursor: closed and committed")


def subscribe(conn):
    """DECLARE … CURSOR FOR SUBSCRIBE, then FETCH with a timeout: the snapshot, then a change."""
    conn.execute("DECLARE py_sub CURSOR FOR SUBSCRIBE py_rooms")
    rows = conn.execute("FETCH ALL py_sub WITH (timeout = '5s')").fetchall()
    check("subscribe: snapshot rows", sorted((r[1], r[2], r[3]) for r in rows), [(1, 1, 2), (1, 2, 1), (1, 3, 3)])
    conn.execute("INSERT INTO py_gifts VALUES (%s, %s, %s, %s, %s, %s)",
                 (2, 103, decimal.Decimal("1.00"), "late", True, T0))
    got = []
    for _ in range(20):
        got += conn.execute("FETCH ALL py_sub WITH (timeout = '1s')").fetchall()
        if len(got) >= 2:
            break
    check("subscribe: change rows (weir_diff, room_id, n)", sorted((r[1], r[2], r[3]) for r in got),
          [(-1, 2, 1), (1, 2, 2)])
    check("subscribe: empty FETCH after timeout", conn.execute("FETCH ALL py_sub WITH (timeout = '10ms')").fetchall(), [])


def cancel(conn):
    """conn.cancel() from another thread stops a FETCH that waits for a change that never comes."""
    done = threading.Event()

    def canceller():
        # Cancel until the FETCH has ended: a cancel that lands before it starts is ignored.
        while not done.wait(0.2):
            conn.cancel()

    t = threading.Thread(target=canceller)
    t.start()
    try:
        conn.execute("FETCH ALL py_sub")
        fail("cancel", "FETCH returned instead of being cancelled")
    except psycopg.errors.QueryCanceled as e:
        check("cancel: SQLSTATE", e.sqlstate, "57014")
    except psycopg.Error as e:
        fail("cancel", "want 57014, got %s %s" % (e.sqlstate, e))
    finally:
        done.set()
        t.join()
    check("cancel: connection still usable", conn.execute("SELECT count(*) FROM py_gifts").fetchone(), (7,))
    conn.execute("CLOSE py_sub")
    ok("cancel: CLOSE the cursor")


if __name__ == "__main__":
    main()
