// Keyboard-wedge scanners type a code as a burst of keystrokes ending in Enter. Pure: feed it keys
// with their times; it answers the code when a fast burst ends, and null otherwise. A burst is fast
// when the typical (median) gap between its keys is at most `maxGap` ms: a person types slower. Once
// fast, a burst stays one through a hiccup of up to `maxPause` ms (a busy phone, a radio link); keys
// typed slowly before it (a quantity typed just before the trigger) are not part of it.

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/** @param {{minLength?:number, maxGap?:number, maxPause?:number}} [options] */
export function createWedge({ minLength = 3, maxGap = 60, maxPause = 300 } = {}) {
  let buffer = '';
  let gaps = [];
  let last = -Infinity;
  const fast = () => gaps.length > 0 && median(gaps) <= maxGap;
  const complete = (gap) => buffer.length >= minLength && fast() && gap <= maxPause;
  // a key after this gap begins a new burst: after a pause, or after a slow key when no fast burst runs
  const restarts = (gap) => !buffer || gap > maxPause || (gap > maxGap && !fast());
  return {
    /** @returns {string|null} the code when `key` is the Enter ending a fast burst */
    feed(key, time) {
      const gap = time - last;
      last = time;
      if (key === 'Enter') {
        const code = complete(gap) ? buffer : null;
        buffer = '';
        gaps = [];
        return code;
      }
      if (key.length !== 1) return null; // Shift, arrows, …
      if (restarts(gap)) { buffer = ''; gaps = []; } else gaps.push(gap);
      buffer += key;
      return null;
    },
    /** Whether a key at `time` would begin a new burst. */
    begins(time) { return restarts(time - last); },
  };
}
