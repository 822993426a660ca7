// The phone's words: one JSON catalogue per language in locales/ (en.json, de.json; a third language is
// a third file with the same keys), flat keys to texts with {name} placeholders. At start the first of
// the browser's languages (navigator.languages) that has a catalogue is loaded, English otherwise; only
// that one is fetched (the service worker caches every catalogue with the shell, so it works offline).
// pwa/tests/i18n.test.js keeps the catalogues complete and every key used in the code in them.

let words = {};
export let lang = 'en';

/** The base languages to try, in the browser's order, English last: ['de-AT', 'en'] → ['de', 'en']. */
export function candidates(languages) {
  const tags = (languages ?? []).map((tag) => String(tag).toLowerCase().split('-')[0]).filter(Boolean);
  return [...new Set([...tags, 'en'])];
}

/** Load the catalogue of the first language that has one. */
export async function load(languages = navigator.languages?.length ? navigator.languages : [navigator.language]) {
  for (const candidate of candidates(languages)) {
    try {
      const response = await fetch(`/app/locales/${candidate}.json`);
      if (!response.ok) continue;
      words = await response.json();
      lang = candidate;
      break;
    } catch { /* offline and not cached: the next one */ }
  }
  document.documentElement.lang = lang;
  translate(document);
}

/** t('chip.waiting', {n: 3}) → "3 waiting". A key the catalogue lacks shows as itself. */
export function t(key, params) {
  const text = words[key] ?? key;
  return params ? text.replace(/\{(\w+)\}/g, (whole, name) => (name in params ? String(params[name]) : whole)) : text;
}

/** t() with a count: the key's `.one` text for 1, its `.other` text otherwise ({n} filled in). */
export function tn(key, n, params = {}) {
  return t(`${key}.${n === 1 ? 'one' : 'other'}`, { n, ...params });
}

/** The static HTML's words: a data-t attribute (a key) sets the text, data-t-placeholder / data-t-aria-label the attribute. */
export function translate(root) {
  for (const el of root.querySelectorAll('[data-t]')) el.textContent = t(el.dataset.t);
  for (const el of root.querySelectorAll('[data-t-placeholder]')) el.placeholder = t(el.dataset.tPlaceholder);
  for (const el of root.querySelectorAll('[data-t-aria-label]')) el.setAttribute('aria-label', t(el.dataset.tAriaLabel));
}

/** Use this catalogue (the node tests: the English one, read from the file). */
export function use(catalogue, language = 'en') {
  words = catalogue;
  lang = language;
}
