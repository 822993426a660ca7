// Keyboard-wedge scanners type a code as a burst of keystrokes ending in Enter. Pure: feed it keys
// with their times; it answers the code when a fast burst ends, and null otherwise.

/** @param {{minLength?:number, maxGap?:number}} [options] maxGap: most ms between two keys of a burst */
export function createWedge({ minLength = 3, maxGap = 60 } = {}) {
  let buffer = '';
  let last = -Infinity;
  return {
    /** @returns {string|null} the code when `key` is the Enter ending a burst */
    feed(key, time) {
      const gap = time - last;
      last = time;
      if (key === 'Enter') {
        const code = buffer;
        buffer = '';
        return code.length >= minLength && gap <= maxGap * 4 ? code : null;
      }
      if (key.length !== 1) return null; // Shift, arrows, …
      if (gap > maxGap) buffer = '';
      buffer += key;
      return null;
    },
    /** Whether keys are arriving as a burst right now (so they should not go to the page). */
    bursting(time) { return buffer.length >= 2 && time - last <= maxGap; },
    reset() { buffer = ''; last = -Infinity; },
  };
}
