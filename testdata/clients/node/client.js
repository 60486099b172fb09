// node-postgres (pg, pg-cursor) against a Weir server (TestExternalClients/node).
//
// Usage: node client.js DSN   (after `npm ci` in this directory)
//
// Runs DDL, parameterised INSERTs and SELECTs (int8, numeric, text, timestamptz, bool), a
// pg-cursor read in batches (Execute with a row limit on a suspended portal), a SUBSCRIBE
// cursor with FETCH … WITH (timeout), and the client's cancel of a blocking FETCH, which must
// end with SQLSTATE 57014. Prints one line per check; exits 1 at the first failure.
'use strict'

const assert = require('node:assert/strict')
const pg = require('pg')
const Cursor = require('pg-cursor')

// PostgreSQL type OIDs, as result.fields reports them.
const INT8 = 20
const NUMERIC = 1700
const TEXT = 25
const BOOL = 16
const TIMESTAMPTZ = 1184

const T0 = new Date('2026-01-01T12:00:00Z')

function ok (name) {
  console.log('ok   ' + name)
}

function check (name, got, want) {
  try {
    assert.deepStrictEqual(got, want)
  } catch (e) {
    throw new Error(name + ': got ' + JSON.stringify(got) + ', want ' + JSON.stringify(want))
  }
  ok(name)
}

async function main () {
  const dsn = process.argv[2]
  if (!dsn) {
    console.error('usage: node client.js DSN')
    process.exit(2)
  }
  console.log('node', process.version, 'pg', require('pg/package.json').version)
  const client = new pg.Client({ connectionString: dsn })
  await client.connect()
  try {
    await ddl(client)
    await insert(client)
    await select(client)
    await cursor(client)
    await subscribe(client)
    await cancel(client, dsn)
  } finally {
    await client.end()
  }
  console.log('node: all checks passed')
}

async function ddl (client) {
  await client.query('CREATE SOURCE n_gifts (room_id bigint NOT NULL, user_id bigint NOT NULL, ' +
    'amount numeric(10,2) NOT NULL, note text, vip boolean NOT NULL, ts timestamptz NOT NULL)')
  await client.query('CREATE MATERIALIZED VIEW n_rooms AS SELECT room_id, count(*) AS n, sum(amount) AS total, ' +
    'max(note) AS last_note, count(*) > 1 AS busy, max(ts) AS last_ts FROM n_gifts GROUP BY room_id')
  const res = await client.query('SHOW MATERIALIZED VIEWS')
  assert.ok(res.rows.some(r => Object.values(r)[0] === 'n_rooms'), 'n_rooms in SHOW MATERIALIZED VIEWS')
  ok('ddl: CREATE SOURCE, CREATE MATERIALIZED VIEW')
}

async function insert (client) {
  // node-postgres sends every parameter as text of unspecified type: Weir infers the types.
  const gifts = [
    [1, 100, '12.50', 'first', true, T0],
    [1, 101, '0.25', 'second', false, new Date(T0.getTime() + 1500)],
    [2, 102, '3.00', null, false, new Date(T0.getTime() + 2000)]
  ]
  for (const g of gifts) {
    const res = await client.query('INSERT INTO n_gifts VALUES ($1, $2, $3, $4, $5, $6)', g)
    check('insert ' + g[1] + ': rowCount', res.rowCount, 1)
  }
  // A named prepared statement, executed several times.
  for (let i = 0; i < 4; i++) {
    await client.query({
      name: 'n_ins',
      text: 'INSERT INTO n_gifts (room_id, user_id, amount, note, vip, ts) VALUES ($1, $2, $3, $4, $5, $6)',
      values: [3, 200 + i, String(i), 'named', false, T0]
    })
  }
  ok('insert: named prepared statement')
}

async function select (client) {
  // A view's numeric column reads back as exact text (the view store keeps numeric as
  // text), so the cast asks for numeric on the wire.
  const res = await client.query(
    'SELECT room_id, n, total::numeric(12,2) AS total, last_note, busy, last_ts FROM n_rooms WHERE room_id = $1', [1])
  check('select: column types', res.fields.map(f => f.dataTypeID), [INT8, INT8, NUMERIC, TEXT, BOOL, TIMESTAMPTZ])
  check('select: column names', res.fields.map(f => f.name), ['room_id', 'n', 'total', 'last_note', 'busy', 'last_ts'])
  check('select: row count', res.rows.length, 1)
  const r = res.rows[0]
  // node-postgres returns int8 and numeric as strings (they may not fit a JS number).
  check('select: int8', r.room_id, '1')
  check('select: count', r.n, '2')
  check('select: numeric', r.total, '12.75')
  check('select: text', r.last_note, 'second')
  check('select: bool', r.busy, true)
  check('select: timestamptz is a Date', r.last_ts instanceof Date, true)
  check('select: timestamptz', r.last_ts.toISOString(), '2026-01-01T12:00:01.500Z')

  const res2 = await client.query('SELECT count(*) AS c FROM n_gifts WHERE note = $1 AND vip = $2 AND ts >= $3',
    ['first', true, T0])
  check('select: text, bool and timestamptz parameters', res2.rows[0].c, '1')

  const res3 = await client.query({ text: 'SELECT room_id, last_note FROM n_rooms ORDER BY room_id', rowMode: 'array' })
  check('select: all rows', res3.rows, [['1', 'second'], ['2', null], ['3', 'named']])

  try {
    await client.query('SELECT * FROM n_nope WHERE x = $1', [1])
    throw new Error('select: no error for a missing relation')
  } catch (e) {
    if (!e.code) throw e
    check('select: SQLSTATE of a missing relation', e.code, '42P01')
  }
}

async function cursor (client) {
  // pg-cursor: Execute with a row limit, the portal suspended between reads.
  const c = client.query(new Cursor('SELECT user_id FROM n_gifts WHERE room_id = $1 ORDER BY user_id', [3]))
  const batches = []
  for (;;) {
    const rows = await c.read(3)
    if (rows.length === 0) break
    batches.push(rows.map(r => Number(r.user_id)))
  }
  await c.close()
  check('pg-cursor: batches of 3', batches, [[200, 201, 202], [203]])
}

async function fetchChanges (client, sql) {
  const res = await client.query(sql)
  return res.rows.map(r => [Number(r.weir_diff), Number(r.room_id), Number(r.n)])
}

function sorted (rows) {
  return rows.map(r => r.join(' ')).sort()
}

async function subscribe (client) {
  await client.query('DECLARE n_sub CURSOR FOR SUBSCRIBE n_rooms')
  const snap = await fetchChanges(client, "FETCH ALL n_sub WITH (timeout = '5s')")
  check('subscribe: snapshot (weir_diff room_id n)', sorted(snap), ['1 1 2', '1 2 1', '1 3 4'])
  await client.query('INSERT INTO n_gifts VALUES ($1, $2, $3, $4, $5, $6)', [2, 300, '1', 'late', true, T0])
  let got = []
  for (let i = 0; i < 20 && got.length < 2; i++) {
    got = got.concat(await fetchChanges(client, "FETCH ALL n_sub WITH (timeout = '1s')"))
  }
  check('subscribe: changes', sorted(got), ['-1 2 1', '1 2 2'])
}

async function cancel (client, dsn) {
  // The client's cancel: a second connection sends CancelRequest with this one's key.
  const query = new pg.Query('FETCH ALL n_sub')
  const result = new Promise((resolve, reject) => {
    query.on('end', resolve)
    query.on('error', reject)
  })
  client.query(query)
  // A cancel that arrives before the FETCH starts is ignored, so repeat until it ends.
  // (pg's Client.cancel reads the deprecated Client.activeQuery; its warning is silenced.)
  process.noDeprecation = true
  let done = false
  const timer = setInterval(() => {
    if (!done) {
      new pg.Client({ connectionString: dsn }).cancel(client, query)
    }
  }, 200)
  try {
    await result
    throw new Error('cancel: FETCH returned instead of being cancelled')
  } catch (e) {
    if (!e.code) throw e
    check('cancel: SQLSTATE', e.code, '57014')
  } finally {
    done = true
    clearInterval(timer)
  }
  const res = await client.query('SELECT count(*) AS c FROM n_gifts')
  check('cancel: connection still usable', res.rows[0].c, '8')
  await client.query('CLOSE n_sub')
  ok('cancel: CLOSE the cursor')
}

main().catch(e => {
  console.log('FAIL ' + (e && e.message ? e.message : e))
  if (e && e.code) console.log('     SQLSTATE ' + e.code)
  process.exit(1)
})
