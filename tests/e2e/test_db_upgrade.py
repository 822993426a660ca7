"""A phone that ran version 1 of the app (IndexedDB schema 1) loads the current one (schema 5): the work it
queued offline is pushed and applied once, it pulls everything again (counts, which version 1 never kept,
included), and it works on the new stores with no error shown."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.e2e.conftest import Phone
from tests.e2e.server import HTTP, USERS

# What a version-1 phone holds, made in the page as version 1 of pwa/db.js, auth.js, sync.js, store.js
# and outbox.js made it: the schema of IndexedDB version 1 (copied, not imported: phones in the field have
# it as it was), the settings in `meta`, a first pull (parts, locations and inventory: version 1 ignored
# the rest) and ops queued offline with their optimistic effects on the rows, never pushed.
LEAVE_V1_PHONE = """async ({ username, password, drafts }) => {
  const { applyDelta, dependencyKeys, keysOf, normalizeRow, planOp, rowKey, viewOf } = await import('/app/logic/rows.js');
  const { LIVE, assignSeqs, dependenciesOf } = await import('/app/logic/queue.js');
  const { uuidv7 } = await import('/app/outbox.js');
  const done = (request) => new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  const post = async (path, body, token) => {
    const headers = { 'Content-Type': 'application/json', Accept: 'application/json' };
    if (token) headers.Authorization = `Bearer ${token}`;
    const response = await fetch(path, { method: 'POST', headers, body: JSON.stringify(body) });
    if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
    return response.json();
  };

  // the version-1 schema as phones in the field have it, written out here on purpose: a snapshot, not a
  // call into db.js, whose createV1 may change with later upgrades
  const opening = indexedDB.open('gemba', 1);
  opening.onupgradeneeded = () => {
    const db = opening.result;
    db.createObjectStore('meta');
    const outbox = db.createObjectStore('outbox', { keyPath: 'seq' });
    outbox.createIndex('state_seq', ['state', 'seq']);
    outbox.createIndex('op_id', 'op_id', { unique: true });
    outbox.createIndex('keys', 'keys', { multiEntry: true });
    outbox.createIndex('pending_keys', 'pending_keys', { multiEntry: true });
    outbox.createIndex('live', 'live');
    const rows = db.createObjectStore('rows', { keyPath: 'key' });
    rows.createIndex('id', 'id');
    rows.createIndex('serial', 'view.serial');
    rows.createIndex('part', 'view.part');
    rows.createIndex('lot', 'view.lot');
    rows.createIndex('location', 'view.location');
    rows.createIndex('parent', 'view.installed_in');
    const parts = db.createObjectStore('parts', { keyPath: 'id' });
    parts.createIndex('number', 'part_number', { unique: false });
    const locations = db.createObjectStore('locations', { keyPath: 'id' });
    locations.createIndex('code', 'code', { unique: false });
  };
  const db = await done(opening);

  // signed in (auth.js), then synced once (sync.js, store.js of version 1)
  const deviceId = crypto.randomUUID();
  const answer = await post('/api/auth/token', { username, password, device_id: deviceId, device_name: `${navigator.platform} ${deviceId.slice(0, 8)}` });
  const meta = new Map([['device_id', deviceId], ['auth', { token: answer.access_token, user: answer.user, expires_at: answer.expires_at }],
    ['last_username', answer.user.username]]);
  const rows = new Map();
  const parts = [];
  const locations = [];
  let cursor = null;
  for (let more = true; more;) {
    const page = await post('/api/sync/pull', { protocol: 1, device_id: deviceId, cursor, limit: 500 }, answer.access_token);
    for (const change of page.changes) {
      if (change.entity === 'inventory' && change.op === 'put') {
        const server = normalizeRow({ ...change.data, id: change.id });
        rows.set(rowKey(server), { key: rowKey(server), id: server.id, server, view: viewOf(server, []), last_op: null });
      } else if (change.entity === 'part' && change.op === 'put') parts.push({ ...change.data, id: change.id });
      else if (change.entity === 'location' && change.op === 'put') locations.push({ ...change.data, id: change.id });
    }
    cursor = page.cursor;
    meta.set('server_last_seq', page.last_seq);
    more = page.has_more;
  }
  meta.set('cursor', cursor);
  meta.set('last_sync', Date.now());

  // then offline: each action queued as outbox.enqueue does it, seqs 1, 2, 3 …
  const records = [];
  const touched = new Set();
  let next = 1;
  for (const draft of drafts) {
    const now = Date.now();
    const { ops: [op], nextSeq } = assignSeqs([{ ...draft, op_id: uuidv7(now) }], next);
    next = nextSeq;
    const deltas = planOp(op);
    const keys = keysOf(deltas);
    const depKeys = dependencyKeys(op, deltas);
    for (const key of new Set([...keys, ...depKeys])) if (!rows.has(key)) rows.set(key, { key, id: null, server: null, view: null });
    const pendingByKey = new Map(); // nothing was pushed: every op a row last had is unanswered
    for (const key of depKeys) if (rows.get(key).last_op) pendingByKey.set(key, rows.get(key).last_op);
    records.push({
      seq: op.seq, op_id: op.op_id, state: 'pending', live: LIVE.PENDING, keys, pending_keys: keys, deltas, created: now,
      summary: op.summary ?? op.type,
      op: { op_id: op.op_id, seq: op.seq, type: op.type, client_time: new Date(now).toISOString(), actor: answer.user.username,
        depends_on: dependenciesOf(depKeys, pendingByKey, op.op_id), args: op.args },
    });
    for (const delta of deltas) {
      const row = rows.get(delta.key);
      row.view = applyDelta(row.view, delta);
      row.last_op = op.op_id;
    }
    keys.forEach((key) => touched.add(key));
  }
  meta.set('next_seq', next);

  const t = db.transaction(['meta', 'outbox', 'rows', 'parts', 'locations'], 'readwrite');
  for (const [key, value] of meta) t.objectStore('meta').put(value, key);
  for (const record of records) t.objectStore('outbox').put(record);
  for (const row of rows.values()) if (row.server || touched.has(row.key)) t.objectStore('rows').put(row);
  for (const part of parts) t.objectStore('parts').put(part);
  for (const location of locations) t.objectStore('locations').put(location);
  await new Promise((resolve, reject) => { t.oncomplete = resolve; t.onerror = () => reject(t.error); });
  db.close();
  return { deviceId, token: answer.access_token, opIds: records.map((r) => r.op_id) };
}"""

# The phone's database as the app has it now, read through the app's own db.js.
LOCAL = """import('/app/db.js').then(async (db) => {
  const idb = await db.openDb();
  return db.read(['rows', 'counts', 'count_lines', 'meta', 'outbox'], async (t) => ({
    version: idb.version,
    stores: [...idb.objectStoreNames],
    rows: (await t.all('rows')).map((r) => r.view).filter(Boolean),
    counts: (await t.all('counts')).map((c) => c.id),
    lines: (await t.all('count_lines')).map((l) => l.serial),
    cursor: await t.get('meta', 'cursor'),
    outbox: (await t.all('outbox')).map((r) => ({ seq: r.seq, state: r.state, wire: r.op })),
  }));
})"""

FIELDS = ("id", "part", "serial", "lot", "location", "installed_in", "quantity", "status")


def server_rows(server: Any) -> set[tuple[Any, ...]]:
    """Every stock row the server has, as the phone's copy lists them."""
    rows: list[dict[str, Any]] = []
    while True:
        page = server.api("GET", "/api/inventory", params={"limit": 500, "offset": len(rows)})
        rows += page["items"]
        if len(rows) >= page["total"]:
            return {tuple(row[field] for field in FIELDS) for row in rows}


def test_a_version_1_phone_upgrades_keeps_its_queue_and_pulls_everything_again(phones: Any, server: Any, uid: str) -> None:
    cage, counted, uncounted, received = f"V1-CAGE-{uid}", f"V1C-{uid}-1", f"V1C-{uid}-2", f"V1R-{uid}"
    bolts = f"BOLT-{uid}"  # untracked stock of its own: the other tests' screws stay in one place
    server.api("POST", "/api/parts", json={"part_number": bolts, "tracking": "untracked", "description": "Bolt"})
    server.op("receive", part=bolts, tracking="untracked", location="STORES/SHELF-1", quantity=100)
    # an open count that a version-1 phone pulled without keeping it (no counts store), one line counted already
    server.api("POST", "/api/locations", json={"code": cage, "name": "Upgrade cage"})
    for serial in (counted, uncounted):
        server.op("receive", part="PUMP-A", tracking="serial", serial=serial, location=cage, quantity=1)
    count = server.api("POST", "/api/counts", user="sam", json={"kind": "location", "location": cage, "name": f"Cage count {uid}"})
    server.api("POST", f"/api/counts/{count['id']}/start", user="sam", json={})
    server.api("POST", "/api/ops", user="oleg", json={"op_id": str(uuid.uuid4()), "type": "count", "args": {
        "part": "PUMP-A", "tracking": "serial", "location": cage, "serial": counted, "counted_quantity": 1, "count_id": count["id"]}})

    drafts = [
        {"type": "receive", "args": {"part": "PUMP-A", "tracking": "serial", "location": "DOCK-1", "quantity": 1, "serial": received},
         "summary": f"Receive {received} into DOCK-1"},
        {"type": "move", "args": {"part": "PUMP-A", "tracking": "serial", "serial": received, "from_location": "DOCK-1",
                                  "to_location": "LINE-1", "quantity": 1}, "summary": f"Move {received} DOCK-1 → LINE-1"},
        {"type": "move", "args": {"part": bolts, "tracking": "untracked", "from_location": "STORES/SHELF-1",
                                  "to_location": "LINE-1", "quantity": 20}, "summary": f"Move 20 × {bolts} STORES/SHELF-1 → LINE-1"},
    ]
    v1: dict[str, Any] = {}
    pulls: list[Any] = []  # the app's pull responses
    console_errors: list[str] = []

    def leave_a_version_1_phone(phone: Phone) -> None:
        phone.page.goto(server.url + "/healthz")  # the app's origin, without the app
        v1.update(phone.page.evaluate(LEAVE_V1_PHONE, {"username": "olga", "password": USERS["olga"][1], "drafts": drafts}))
        phone.page.on("response", lambda r: pulls.append(r) if r.url.endswith("/api/sync/pull") else None)
        phone.page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)

    phone = phones(None, before_open=leave_a_version_1_phone)  # the current app, signed in as version 1 left it
    # the chip says "Synced" for a moment at start, before the app has counted its outbox: wait_synced waits
    # until the server has answered every queued op, then for the end of that sync (its pull)
    phone.wait_synced()
    first_pull = pulls[0]  # with the marker the upgrade left as cursor, which the server answers with a reset
    assert (first_pull.request.post_data_json["cursor"], first_pull.json()["reset"]) == ("v1-upgraded", True)

    # the queued ops were applied by the server, each once, as this phone's
    assert server.inventory(serial=received)[0]["location"] == "LINE-1"
    assert {row["location"]: row["quantity"] for row in server.inventory(part=bolts)} == {"STORES/SHELF-1": 80, "LINE-1": 20}
    for op_id in v1["opIds"]:
        log = server.api("GET", "/api/activity", params={"op_id": op_id})
        assert log["total"] == 1 and log["items"][0]["device_id"] == v1["deviceId"], log
    local = phone.page.evaluate(LOCAL)
    assert [(r["seq"], r["state"]) for r in local["outbox"]] == [(1, "applied"), (2, "applied"), (3, "applied")]
    again = push_again(server, v1, [r["wire"] for r in local["outbox"]])
    assert [(r["status"], r["original_status"]) for r in again["results"]] == [("duplicate", "applied")] * 3

    # a full pull: the phone's copy is the server's, counts and everyone's count lines included
    assert local["version"] == 5 and {"counts", "count_lines", "po_lines", "kit_lines"} <= set(local["stores"])
    assert local["cursor"].startswith("g1.")
    assert {tuple(row[field] for field in FIELDS) for row in local["rows"]} == server_rows(server)
    assert count["id"] in local["counts"] and counted in local["lines"]
    outcomes = phone.outcomes()
    assert len([line for line in outcomes if "Applied" in line]) == 3, outcomes

    # the count screen works on the new stores: the open count, its sheet by location, oleg's line
    phone.go("count")
    phone.page.click(f"a[data-count='{count['id']}']")
    phone.page.wait_for_selector(".progress-count:has-text('1 of 2 lines counted')")
    phone.scan(cage)
    phone.page.wait_for_selector(f"li.count-line[data-key*='{counted}'][data-state='present']")
    phone.page.wait_for_selector(f"li.count-line[data-key*='{uncounted}'][data-state='not counted']")

    assert phone.page.locator("p.error, #toast.error").count() == 0 and phone.page.is_hidden("#banner")
    assert not console_errors, console_errors
    assert phone.page.get_attribute("#syncchip", "data-phase") == "synced"


def push_again(server: Any, v1: dict[str, Any], ops: list[dict[str, Any]]) -> Any:
    """The same ops pushed again by the same device: the server's records of them answer."""
    wire = [{key: op[key] for key in ("op_id", "seq", "type", "client_time", "actor", "args")}
            | ({"depends_on": op["depends_on"]} if op["depends_on"] else {}) for op in ops]
    answer = HTTP.post(f"{server.url}/api/sync/push", headers={"Authorization": f"Bearer {v1['token']}"},
                        json={"protocol": 1, "device_id": v1["deviceId"], "ops": wire}, timeout=30)
    answer.raise_for_status()
    return answer.json()


# What a version-2 phone holds (IndexedDB schema 2, as version 2 of pwa/db.js made it, written out on purpose):
# a part pulled before parts had `words`, and the cursor of its last pull.
LEAVE_V2_COPY = """async (number) => {
  const opening = indexedDB.open('gemba', 2);
  opening.onupgradeneeded = () => {
    const db = opening.result;
    db.createObjectStore('meta');
    const outbox = db.createObjectStore('outbox', { keyPath: 'seq' });
    outbox.createIndex('state_seq', ['state', 'seq']);
    outbox.createIndex('op_id', 'op_id', { unique: true });
    outbox.createIndex('keys', 'keys', { multiEntry: true });
    outbox.createIndex('pending_keys', 'pending_keys', { multiEntry: true });
    outbox.createIndex('live', 'live');
    const rows = db.createObjectStore('rows', { keyPath: 'key' });
    for (const [name, path] of [['id', 'id'], ['serial', 'view.serial'], ['part', 'view.part'], ['lot', 'view.lot'],
      ['location', 'view.location'], ['parent', 'view.installed_in'], ['server_location', 'server.location']]) rows.createIndex(name, path);
    db.createObjectStore('parts', { keyPath: 'id' }).createIndex('number', 'part_number', { unique: false });
    db.createObjectStore('locations', { keyPath: 'id' }).createIndex('code', 'code', { unique: false });
    db.createObjectStore('counts', { keyPath: 'id' });
    db.createObjectStore('count_lines', { keyPath: 'id' }).createIndex('count', 'count_id');
  };
  const db = await new Promise((resolve, reject) => { opening.onsuccess = () => resolve(opening.result); opening.onerror = () => reject(opening.error); });
  const t = db.transaction(['parts', 'meta'], 'readwrite');
  t.objectStore('parts').put({ id: 'p-old', part_number: number, tracking: 'untracked', description: 'Brass widget, 40 mm' });
  t.objectStore('meta').put('g1.5', 'cursor');
  await new Promise((resolve) => { t.oncomplete = resolve; });
  db.close();
}"""


def test_a_version_2_copy_finds_its_parts_by_words_after_the_upgrade(phones: Any, server: Any, uid: str) -> None:
    number = f"OLD-{uid}"

    def leave_a_version_2_copy(phone: Phone) -> None:
        phone.page.goto(server.url + "/healthz")
        phone.page.evaluate(LEAVE_V2_COPY, number)

    phone = phones(None, before_open=leave_a_version_2_copy)
    assert phone.page.evaluate("import('/app/db.js').then(async (db) => (await db.openDb()).version)") == 5
    found = phone.page.evaluate("import('/app/store.js').then(async (s) => (await s.find('widget bra')).parts.map((p) => p.part_number))")
    assert found == [number]  # the upgrade gave the part kept before it its words
    # version 3 kept the cursor; version 4 pulls everything again, for the open PO lines no copy kept before
    assert phone.page.evaluate("import('/app/db.js').then((db) => db.getMeta('cursor'))") == "v3-upgraded"
