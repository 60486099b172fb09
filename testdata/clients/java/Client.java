// pgJDBC against a Weir server (TestExternalClients/java).
//
// Usage: java -cp .:/usr/share/java/postgresql.jar Client JDBC_URL
//
// Runs DDL, parameterised INSERTs and SELECTs (int8, numeric, text, timestamptz, bool),
// setFetchSize streaming with autocommit off (portal row limits), a SUBSCRIBE cursor with
// FETCH … WITH (timeout), Statement.cancel() of a blocking FETCH (SQLSTATE 57014) and
// DatabaseMetaData getTables, getColumns and getPrimaryKeys. Prints one line per check;
// exits 1 at the first failure.

import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;

public class Client {
    static final OffsetDateTime T0 = OffsetDateTime.of(2026, 1, 1, 12, 0, 0, 0, ZoneOffset.UTC);

    static void ok(String name) {
        System.out.println("ok   " + name);
    }

    static void fail(String name, String detail) {
        System.out.println("FAIL " + name + ": " + detail);
        System.out.flush();
        System.exit(1);
    }

    static void check(String name, Object got, Object want) {
        if (!Objects.equals(got, want)) {
            fail(name, "got " + got + ", want " + want);
        }
        ok(name);
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 1) {
            System.err.println("usage: Client JDBC_URL");
            System.exit(2);
        }
        String url = args[0];
        try {
            run(url);
        } catch (SQLException e) {
            fail("unexpected SQLException", "SQLSTATE " + e.getSQLState() + ": " + e.getMessage());
        }
        System.out.println("java: all checks passed");
    }

    static void run(String url) throws Exception {
        try (Connection conn = DriverManager.getConnection(url)) {
            DatabaseMetaData md = conn.getMetaData();
            System.out.println(md.getDriverName() + " " + md.getDriverVersion() + " against "
                    + md.getDatabaseProductName() + " " + md.getDatabaseProductVersion());
            ddl(conn);
            insert(conn);
            select(conn);
            metadata(conn);
            fetchSize(conn);
            conn.setAutoCommit(true);
            subscribe(conn);
            cancel(conn);
        }
    }

    static void ddl(Connection conn) throws SQLException {
        try (Statement st = conn.createStatement()) {
            st.execute("CREATE SOURCE j_gifts (room_id bigint NOT NULL, user_id bigint NOT NULL, "
                    + "amount numeric(10,2) NOT NULL, note text, vip boolean NOT NULL, ts timestamptz NOT NULL)");
            st.execute("CREATE MATERIALIZED VIEW j_rooms AS SELECT room_id, count(*) AS n, sum(amount) AS total, "
                    + "max(note) AS last_note, count(*) > 1 AS busy, max(ts) AS last_ts FROM j_gifts GROUP BY room_id");
            st.execute("CREATE TABLE j_meta (room_id bigint PRIMARY KEY, title text NOT NULL, score integer)");
        }
        ok("ddl: CREATE SOURCE, CREATE MATERIALIZED VIEW, CREATE TABLE");
    }

    static void insert(Connection conn) throws SQLException {
        try (PreparedStatement ps = conn.prepareStatement("INSERT INTO j_gifts VALUES (?, ?, ?, ?, ?, ?)")) {
            Object[][] rows = {
                {1L, 100L, new BigDecimal("12.50"), "first", true, T0},
                {1L, 101L, new BigDecimal("0.25"), "second", false, T0.plusSeconds(1).plusNanos(500_000_000)},
                {2L, 102L, new BigDecimal("3.00"), null, false, T0.plusSeconds(2)},
            };
            for (Object[] r : rows) {
                ps.setLong(1, (Long) r[0]);
                ps.setLong(2, (Long) r[1]);
                ps.setBigDecimal(3, (BigDecimal) r[2]);
                ps.setString(4, (String) r[3]);
                ps.setBoolean(5, (Boolean) r[4]);
                ps.setObject(6, r[5]);
                check("insert " + r[1] + ": update count", ps.executeUpdate(), 1);
            }
            // A batch (pgJDBC switches to a named server-side statement after 5 executions).
            for (int i = 0; i < 6; i++) {
                ps.setLong(1, 3L);
                ps.setLong(2, 200L + i);
                ps.setBigDecimal(3, new BigDecimal(i));
                ps.setString(4, "batch");
                ps.setBoolean(5, false);
                ps.setTimestamp(6, java.sql.Timestamp.from(T0.toInstant()));
                ps.addBatch();
            }
            int[] counts = ps.executeBatch();
            check("insert batch: update counts", counts.length, 6);
        }
        try (PreparedStatement ps = conn.prepareStatement("INSERT INTO j_meta VALUES (?, ?, ?)")) {
            ps.setLong(1, 1L);
            ps.setString(2, "one");
            ps.setInt(3, 5);
            check("insert table row", ps.executeUpdate(), 1);
        }
    }

    static void select(Connection conn) throws SQLException {
        // A view's numeric column reads back as exact text (the view store keeps numeric as
        // text), so the cast asks for numeric on the wire.
        String q = "SELECT room_id, n, total::numeric(12,2) AS total, last_note, busy, last_ts FROM j_rooms WHERE room_id = ?";
        // Run it past pgJDBC's prepareThreshold (5), so the named-statement path is used too.
        for (int i = 0; i < 6; i++) {
            try (PreparedStatement ps = conn.prepareStatement(q)) {
                ps.setLong(1, 1L);
                try (ResultSet rs = ps.executeQuery()) {
                    ResultSetMetaData rmd = rs.getMetaData();
                    List<String> types = new ArrayList<>();
                    for (int c = 1; c <= rmd.getColumnCount(); c++) {
                        types.add(rmd.getColumnTypeName(c));
                    }
                    if (!rs.next()) {
                        fail("select", "no row for room 1");
                    }
                    if (i > 0) {
                        continue;
                    }
                    check("select: column type names", types,
                            Arrays.asList("int8", "int8", "numeric", "text", "bool", "timestamptz"));
                    check("select: int8", rs.getLong("room_id"), 1L);
                    check("select: count", rs.getLong("n"), 2L);
                    check("select: numeric", rs.getBigDecimal("total"), new BigDecimal("12.75"));
                    check("select: text", rs.getString("last_note"), "second");
                    check("select: bool", rs.getBoolean("busy"), true);
                    check("select: timestamptz", rs.getObject("last_ts", OffsetDateTime.class).toInstant(),
                            T0.plusSeconds(1).plusNanos(500_000_000).toInstant());
                    if (rs.next()) {
                        fail("select", "more than one row for room 1");
                    }
                }
            }
        }
        ok("select: six executions of one query");
        try (PreparedStatement ps = conn.prepareStatement(
                "SELECT count(*) FROM j_gifts WHERE note = ? AND vip = ? AND ts >= ?")) {
            ps.setString(1, "first");
            ps.setBoolean(2, true);
            ps.setObject(3, T0);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                check("select: text, bool and timestamptz parameters", rs.getLong(1), 1L);
            }
        }
        try (PreparedStatement ps = conn.prepareStatement("SELECT amount FROM j_gifts WHERE user_id = ?")) {
            ps.setLong(1, 100L);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                check("select: source numeric(10,2) type", rs.getMetaData().getColumnTypeName(1), "numeric");
                check("select: source numeric(10,2) value", rs.getBigDecimal(1), new BigDecimal("12.50"));
            }
        }
        try (Statement st = conn.createStatement()) {
            st.executeQuery("SELECT * FROM j_nope");
            fail("select: error", "no error for a missing relation");
        } catch (SQLException e) {
            check("select: SQLSTATE of a missing relation", e.getSQLState(), "42P01");
        }
    }

    static void metadata(Connection conn) throws SQLException {
        DatabaseMetaData md = conn.getMetaData();
        List<String> tables = new ArrayList<>();
        try (ResultSet rs = md.getTables(null, "public", "j_%", new String[] {"TABLE", "VIEW", "MATERIALIZED VIEW"})) {
            while (rs.next()) {
                tables.add(rs.getString("TABLE_NAME") + ":" + rs.getString("TABLE_TYPE"));
            }
        }
        tables.sort(null);
        check("getTables", tables, Arrays.asList("j_gifts:TABLE", "j_meta:TABLE", "j_rooms:MATERIALIZED VIEW"));

        List<String> cols = new ArrayList<>();
        try (ResultSet rs = md.getColumns(null, "public", "j_rooms", null)) {
            while (rs.next()) {
                cols.add(rs.getInt("ORDINAL_POSITION") + " " + rs.getString("COLUMN_NAME") + " "
                        + rs.getString("TYPE_NAME"));
                int nullable = rs.getInt("NULLABLE");
                String isNullable = rs.getString("IS_NULLABLE");
                if ((nullable == DatabaseMetaData.columnNoNulls) != "NO".equals(isNullable)) {
                    fail("getColumns", "NULLABLE " + nullable + " disagrees with IS_NULLABLE " + isNullable);
                }
            }
        }
        check("getColumns of a view", cols, Arrays.asList(
                "1 room_id int8", "2 n int8", "3 total numeric", "4 last_note text", "5 busy bool",
                "6 last_ts timestamptz"));
        ok("getColumns of a view: NULLABLE agrees with IS_NULLABLE");

        cols.clear();
        try (ResultSet rs = md.getColumns(null, "public", "j_meta", null)) {
            while (rs.next()) {
                cols.add(rs.getString("COLUMN_NAME") + " " + rs.getString("TYPE_NAME") + " "
                        + rs.getInt("DATA_TYPE") + " " + rs.getInt("NULLABLE"));
            }
        }
        check("getColumns of a table", cols, Arrays.asList(
                "room_id int8 " + java.sql.Types.BIGINT + " " + DatabaseMetaData.columnNoNulls,
                "title text " + java.sql.Types.VARCHAR + " " + DatabaseMetaData.columnNoNulls,
                "score int4 " + java.sql.Types.INTEGER + " " + DatabaseMetaData.columnNullable));

        List<String> pk = new ArrayList<>();
        try (ResultSet rs = md.getPrimaryKeys(null, "public", "j_meta")) {
            while (rs.next()) {
                pk.add(rs.getString("COLUMN_NAME") + " " + rs.getInt("KEY_SEQ"));
            }
        }
        check("getPrimaryKeys", pk, Arrays.asList("room_id 1"));
    }

    // fetchSize streams a query in batches: with autocommit off, pgJDBC sends BEGIN and then
    // Execute with a row limit, resuming the suspended portal for each batch.
    static void fetchSize(Connection conn) throws SQLException {
        conn.setAutoCommit(false);
        try (PreparedStatement ps = conn.prepareStatement(
                "SELECT user_id FROM j_gifts WHERE room_id = ? ORDER BY user_id")) {
            ps.setFetchSize(2);
            ps.setLong(1, 3L);
            List<Long> got = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    got.add(rs.getLong(1));
                }
            }
            check("setFetchSize(2): rows", got, Arrays.asList(200L, 201L, 202L, 203L, 204L, 205L));
        }
        conn.commit();
        ok("setFetchSize: committed");
    }

    static List<String> fetchChanges(Statement st, String sql) throws SQLException {
        List<String> out = new ArrayList<>();
        try (ResultSet rs = st.executeQuery(sql)) {
            while (rs.next()) {
                out.add(rs.getLong("weir_diff") + " " + rs.getLong("room_id") + " " + rs.getLong("n"));
            }
        }
        return out;
    }

    static void subscribe(Connection conn) throws Exception {
        try (Statement st = conn.createStatement()) {
            st.execute("DECLARE j_sub CURSOR FOR SUBSCRIBE j_rooms");
            List<String> snap = fetchChanges(st, "FETCH ALL j_sub WITH (timeout = '5s')");
            snap.sort(null);
            check("subscribe: snapshot (weir_diff room_id n)", snap, Arrays.asList("1 1 2", "1 2 1", "1 3 6"));
            try (PreparedStatement ps = conn.prepareStatement("INSERT INTO j_gifts VALUES (?, ?, ?, ?, ?, ?)")) {
                ps.setLong(1, 2L);
                ps.setLong(2, 300L);
                ps.setBigDecimal(3, BigDecimal.ONE);
                ps.setString(4, "late");
                ps.setBoolean(5, true);
                ps.setObject(6, T0);
                ps.executeUpdate();
            }
            List<String> got = new ArrayList<>();
            for (int i = 0; i < 20 && got.size() < 2; i++) {
                got.addAll(fetchChanges(st, "FETCH ALL j_sub WITH (timeout = '1s')"));
            }
            got.sort(null);
            check("subscribe: changes", got, Arrays.asList("-1 2 1", "1 2 2"));
        }
    }

    // cancel: Statement.cancel() from another thread stops a FETCH that waits for a change
    // that never comes.
    static void cancel(Connection conn) throws Exception {
        try (Statement st = conn.createStatement()) {
            AtomicBoolean done = new AtomicBoolean();
            Thread canceller = new Thread(() -> {
                // A cancel that arrives before the FETCH starts is ignored, so repeat.
                while (!done.get()) {
                    try {
                        Thread.sleep(200);
                        if (!done.get()) {
                            st.cancel();
                        }
                    } catch (Exception e) {
                        return;
                    }
                }
            });
            canceller.start();
            try {
                st.executeQuery("FETCH ALL j_sub");
                fail("cancel", "FETCH returned instead of being cancelled");
            } catch (SQLException e) {
                check("cancel: SQLSTATE", e.getSQLState(), "57014");
            } finally {
                done.set(true);
                canceller.join();
            }
            try (ResultSet rs = st.executeQuery("SELECT count(*) FROM j_gifts")) {
                rs.next();
                check("cancel: connection still usable", rs.getLong(1), 10L);
            }
            st.execute("CLOSE j_sub");
            ok("cancel: CLOSE the cursor");
        }
    }
}
