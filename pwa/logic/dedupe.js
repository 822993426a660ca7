// A camera sees the same code many times a second: report it once, then again only after it has
// been out of sight for `windowMs` (so scanning the same label twice on purpose still works).

export function createDeduper(windowMs = 2000) {
  const seen = new Map(); // text → last time seen
  return {
    accept(text, time) {
      const last = seen.get(text);
      seen.set(text, time);
      for (const [other, t] of seen) if (time - t > windowMs * 4) seen.delete(other);
      return last === undefined || time - last > windowMs;
    },
    forget() { seen.clear(); },
  };
}
