// The only module that touches IndexedDB. Everything the phone keeps lives here: the outbox, the
// local copy of the server's data, and small settings. Other modules work through `tx()`.

import { wordsOf } from './logic/browse.js';
import { t } from './i18n.js';

const NAME = 'gemba';
const VERSION = 5;

/** Stores and their indexes. `rows` keys are natural keys (see logic/rows.js); `view` is what the
 *  phone shows (server row + its own unanswered ops), `server` the server's row as last pulled.
 *  Version 2 adds cycle counts: open `counts`, everyone's `count_lines`, and rows by the server's
 *  location (a count sheet is what the server expects); an installed app pulls everything again.
 *  Version 3 adds problems not yet seen (`outbox.unseen`) and parts by the words of their description
 *  (`parts.words`, filled in here for the parts already kept). Version 4 adds the open lines of purchase
 *  orders (`po_lines`, by their name `NUMBER/LINE`); an installed app pulls everything again to get them.
 *  Version 5 adds the lines of open kits (`kit_lines`, by their kit's number); pulled again the same way. */
function upgrade(db, oldVersion, t) {
  if (oldVersion < 1) createV1(db);
  if (oldVersion < 2) {
    db.createObjectStore('counts', { keyPath: 'id' });
    db.createObjectStore('count_lines', { keyPath: 'id' }).createIndex('count', 'count_id');
    t.objectStore('rows').createIndex('server_location', 'server.location');
    if (oldVersion >= 1) t.objectStore('meta').put('v1-upgraded', 'cursor'); // not a cursor: the server answers reset
  }
  if (oldVersion < 3) {
    t.objectStore('outbox').createIndex('unseen', 'unseen');
    const parts = t.objectStore('parts');
    parts.createIndex('words', 'words', { multiEntry: true });
    parts.openCursor().onsuccess = (event) => {
      const c = event.target.result;
      if (c) { c.update(withWords(c.value)); c.continue(); }
    };
  }
  if (oldVersion < 4) {
    db.createObjectStore('po_lines', { keyPath: 'id' }).createIndex('name', 'po_line');
    if (oldVersion >= 2) t.objectStore('meta').put('v3-upgraded', 'cursor'); // (from 1: step 2 left one) the server answers reset
  }
  if (oldVersion < 5) {
    db.createObjectStore('kit_lines', { keyPath: 'id' }).createIndex('kit', 'kit');
    if (oldVersion >= 4) t.objectStore('meta').put('v4-upgraded', 'cursor'); // (earlier: a step above left one) reset
  }
}

function createV1(db) {
  db.createObjectStore('meta');
  const outbox = db.createObjectStore('outbox', { keyPath: 'seq' });
  outbox.createIndex('state_seq', ['state', 'seq']);
  outbox.createIndex('op_id', 'op_id', { unique: true });
  outbox.createIndex('keys', 'keys', { multiEntry: true });
  outbox.createIndex('pending_keys', 'pending_keys', { multiEntry: true }); // keys, while unanswered
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
}

/** A part as kept: with `words`, the lower-case words of its description (search by word). */
export const withWords = (part) => ({ ...part, words: wordsOf(part.description) });

let opened = null;

/** Open (once) the database. Another tab opening a newer version makes this one reload. */
export function openDb() {
  opened ??= new Promise((resolve, reject) => {
    const request = indexedDB.open(NAME, VERSION);
    request.onupgradeneeded = (event) => upgrade(request.result, event.oldVersion, request.transaction);
    request.onsuccess = () => {
      const db = request.result;
      db.onversionchange = () => { db.close(); location.reload(); };
      resolve(db);
    };
    request.onerror = () => reject(request.error);
    request.onblocked = () => reject(new Error(t('db.blocked')));
  });
  return opened;
}

function done(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

/** A transaction's handle: promise-returning reads and writes on the stores it spans. */
class Tx {
  constructor(t) { this.t = t; }
  store(name) { return this.t.objectStore(name); }
  get(name, key) { return done(this.store(name).get(key)); }
  put(name, value, key) { return done(key === undefined ? this.store(name).put(value) : this.store(name).put(value, key)); }
  del(name, key) { return done(this.store(name).delete(key)); }
  clear(name) { return done(this.store(name).clear()); }
  all(name, query, count) { return done(this.store(name).getAll(query, count)); }
  count(name, query) { return done(this.store(name).count(query)); }
  byIndex(name, index, query, count) { return done(this.store(name).index(index).getAll(query, count)); }
  keys(name, index, query, count) { return done(this.store(name).index(index).getAllKeys(query, count)); }
  oneByIndex(name, index, query) { return done(this.store(name).index(index).get(query)); }
  countIndex(name, index, query) { return done(this.store(name).index(index).count(query)); }
  range(lower, upper) { return IDBKeyRange.bound(lower, upper); }
  /** Records in seq order from an index range, newest first when `reverse`. */
  async cursor(name, index, query, { reverse = false, limit = Infinity, filter = () => true } = {}) {
    const source = index ? this.store(name).index(index) : this.store(name);
    const found = [];
    await new Promise((resolve, reject) => {
      const request = source.openCursor(query, reverse ? 'prev' : 'next');
      request.onsuccess = () => {
        const c = request.result;
        if (!c || found.length >= limit) return resolve();
        if (filter(c.value)) found.push(c.value);
        c.continue();
      };
      request.onerror = () => reject(request.error);
    });
    return found;
  }
}

/** Run `work(tx)` in one transaction over `stores`; resolves with its result once committed. */
export async function tx(stores, mode, work) {
  const db = await openDb();
  const t = db.transaction(stores, mode, { durability: 'strict' });
  const committed = new Promise((resolve, reject) => {
    t.oncomplete = resolve;
    t.onerror = () => reject(t.error);
    t.onabort = () => reject(t.error || new Error('transaction aborted'));
  });
  let result;
  try {
    result = await work(new Tx(t));
  } catch (error) {
    try { t.abort(); } catch { /* already finished */ }
    throw error;
  }
  await committed;
  return result;
}

export const read = (stores, work) => tx(stores, 'readonly', work);
export const write = (stores, work) => tx(stores, 'readwrite', work);

/** A settings value from `meta`. */
export const getMeta = (key) => read(['meta'], (t) => t.get('meta', key));
export const setMeta = (key, value) => write(['meta'], (t) => t.put('meta', value, key));
