// Every word of the phone app is in a catalogue (pwa/locales/*.json), and every catalogue has every key
// the others have with the same placeholders: a key used in the code but missing from a catalogue fails
// here, and so does a catalogue missing a key another has.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { candidates, t, tn, use } from '../i18n.js';

const PWA = fileURLToPath(new URL('..', import.meta.url));
const catalogues = Object.fromEntries(readdirSync(join(PWA, 'locales')).filter((name) => name.endsWith('.json'))
  .map((name) => [name.replace('.json', ''), JSON.parse(readFileSync(join(PWA, 'locales', name), 'utf8'))]));
const placeholders = (text) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

function sources(dir = PWA) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return ['tests', 'vendor', 'locales'].includes(name) ? [] : sources(path);
    return /\.(js|html)$/.test(name) ? [path] : [];
  });
}

const namespaces = new Set(Object.keys(catalogues.en).map((key) => key.split('.')[0]));

/** Every key written out in the code: t('a.b'), any 'ns.key' string of a catalogue's namespace (as in
 *  t(x ? 'a.b' : 'a.c')), tn('a.b') (its .one and .other), data-t="a.b". */
function usedKeys() {
  const keys = new Set();
  for (const path of sources()) {
    const code = readFileSync(path, 'utf8');
    for (const m of code.matchAll(/\bt\(\s*'([\w.-]+)'/g)) keys.add(m[1]);
    for (const m of code.matchAll(/'([a-z]\w*)\.([\w.-]+)'/g)) if (namespaces.has(m[1]) && !/\.(js|json|html|css)$/.test(m[0].slice(1, -1))) keys.add(`${m[1]}.${m[2]}`);
    for (const m of code.matchAll(/\btn\(\s*'([\w.-]+)'/g)) keys.add(`${m[1]}.one`).add(`${m[1]}.other`).add(`tn:${m[1]}`);
    for (const m of code.matchAll(/data-t(?:-[a-z-]+)?="([\w.-]+)"/g)) keys.add(m[1]);
  }
  for (const key of [...keys].filter((k) => k.startsWith('tn:'))) { keys.delete(key); keys.delete(key.slice(3)); } // a count's base
  return keys;
}

// keys built from data: t(`action.${route}`), t(`status.${status}`), …
const DYNAMIC = [
  ...['receive', 'receivepo', 'pickkit', 'issue', 'complete', 'move', 'install', 'uninstall', 'remove', 'scrap', 'isolate', 'problem', 'count', 'find'].map((a) => `action.${a}`),
  ...['synced', 'syncing', 'error', 'auth_required', 'update_required', 'gap', 'offline', 'signed_out', 'rejected_n', 'held_n'].map((p) => `chip.${p}`),
  ...['signed_out', 'auth_required', 'update_required', 'gap', 'offline', 'syncing', 'error', 'waiting', 'synced'].map((p) => `phase.${p}`),
  ...['available', 'unavailable', 'installed', 'wip', 'kitted', 'on_order', 'scrapped', 'removed'].map((s) => `status.${s}`),
  ...['state', 'waiting', 'oldest', 'last-sync'].map((f) => `syncv.${f}`),
  ...['serial', 'lot', 'untracked'].map((k) => `receive.tracked.${k}`),
  ...['unit', 'location', 'part', 'lot', 'serial'].map((k) => `kind.${k}`),
  ...['present', 'missing', 'not_counted'].map((k) => `count.${k}`),
  ...['duplicate_serial', 'tracking_changed', 'tracking_mismatch', 'unknown_reference', 'dependency_rejected', 'dependency_held',
    'location_locked', 'insufficient_quantity', 'stale_location', 'already_installed', 'invalid', 'unknown_op_type', 'op_id_reused',
    'count_not_open', 'over_receipt', 'po_not_open', 'serial_not_on_line', 'already_kitted', 'kit_not_open',
    'not_on_kit', 'not_on_bom', 'run_not_open'].map((r) => `reason.${r}`),
  ...['pending', 'applied', 'rejected', 'held'].map((s) => `outcome.${s}`),
  ...['Move', 'Scrap', 'Assemble', 'Disassemble', 'Isolate', 'Release', 'Remove', 'Add', 'Adjust', 'Split', 'Merge'].map((a) => `done.${a}`),
  ...['scrap', 'remove', 'isolate'].flatMap((n) => ['title', 'verb', 'reasons', 'prompt', 'queued'].map((w) => `setaside.${n}.${w}`)),
];

test('English and German ship', () => {
  assert.ok(catalogues.en && catalogues.de);
});

test('every key used in the code is in the English catalogue, and every English key is used', () => {
  const used = new Set([...usedKeys(), ...DYNAMIC]);
  assert.ok(used.size > 80, `the scan found ${used.size} keys`);
  assert.deepEqual([...used].filter((key) => !(key in catalogues.en)).sort(), []);
  assert.deepEqual(Object.keys(catalogues.en).filter((key) => !used.has(key)).sort(), []);
});

for (const [lang, words] of Object.entries(catalogues)) {
  if (lang === 'en') continue;
  test(`the ${lang} catalogue has every English key, no other, with the same placeholders`, () => {
    assert.deepEqual(Object.keys(catalogues.en).filter((key) => !(key in words)), []);
    assert.deepEqual(Object.keys(words).filter((key) => !(key in catalogues.en)), []);
    const wrong = Object.keys(words).filter((key) => !words[key].trim()
      || placeholders(words[key]).join() !== placeholders(catalogues.en[key]).join());
    assert.deepEqual(wrong, []);
  });
}

test('the browser\'s languages, base language first, English last', () => {
  assert.deepEqual(candidates(['de-AT', 'de', 'en-US']), ['de', 'en']);
  assert.deepEqual(candidates(['fr-FR']), ['fr', 'en']);
  assert.deepEqual(candidates([]), ['en']);
});

test('t fills placeholders, tn picks one or other, a missing key shows as itself', () => {
  use(catalogues.de, 'de');
  assert.equal(t('signin.signed_in_as', { user: 'sam' }), 'Angemeldet als sam');
  assert.equal(tn('signin.waiting', 1), '1 Vorgang wartet auf diesem Handy. Er wird nach Ihrer Anmeldung synchronisiert.');
  assert.equal(tn('banner.expired', 3), 'Ihre Anmeldung ist abgelaufen. 3 Vorgänge sind auf diesem Handy sicher.');
  assert.equal(t('no.such.key'), 'no.such.key');
  use(catalogues.en, 'en');
});
