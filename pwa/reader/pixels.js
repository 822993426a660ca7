// Grayscale copies of a camera frame for the phone's decoder: the same preprocessings the server's
// cascade uses (server/scan/prepare.py). Pure: an image is {width, height, data: Uint8Array} with
// one byte of grey per pixel.

/** RGBA pixels → grey, with the weights zxing-wasm itself uses (so a grey copy reads as the frame). */
export function grayOf(width, height, rgba) {
  const data = new Uint8Array(width * height);
  for (let i = 0, j = 0; i < data.length; i++, j += 4) data[i] = (306 * rgba[j] + 601 * rgba[j + 1] + 117 * rgba[j + 2] + 512) >> 10;
  return { width, height, data };
}

/** Half the size, each pixel the mean of a 2×2 block. */
export function half({ width, height, data }) {
  const w = width >> 1;
  const h = height >> 1;
  const out = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) {
    const a = 2 * y * width;
    const b = a + width;
    for (let x = 0; x < w; x++) out[y * w + x] = (data[a + 2 * x] + data[a + 2 * x + 1] + data[b + 2 * x] + data[b + 2 * x + 1] + 2) >> 2;
  }
  return { width: w, height: h, data: out };
}

function mapped(image, table) {
  const out = new Uint8Array(image.data.length);
  for (let i = 0; i < out.length; i++) out[i] = table[image.data[i]];
  return { width: image.width, height: image.height, data: out };
}

function histogram(data) {
  const counts = new Uint32Array(256);
  for (let i = 0; i < data.length; i++) counts[data[i]]++;
  return counts;
}

/** Grey levels spread so that each is equally common (PIL's ImageOps.equalize). */
export function equalize(image) {
  const counts = histogram(image.data);
  const used = [...counts].filter(Boolean);
  const step = Math.floor((image.data.length - used[used.length - 1]) / 255);
  if (!step) return image;
  const table = new Uint8Array(256);
  let n = Math.floor(step / 2);
  for (let level = 0; level < 256; level++) {
    table[level] = Math.min(255, Math.floor(n / step));
    n += counts[level];
  }
  return mapped(image, table);
}

/** The darkest and lightest 1 % clipped, the rest stretched to black … white. */
export function autocontrast(image) {
  const counts = histogram(image.data);
  const cut = image.data.length * 0.01;
  let low = 0;
  for (let seen = 0; low < 255 && seen + counts[low] <= cut; low++) seen += counts[low];
  let high = 255;
  for (let seen = 0; high > 0 && seen + counts[high] <= cut; high--) seen += counts[high];
  if (high <= low) return image;
  const table = new Uint8Array(256);
  for (let level = 0; level < 256; level++) table[level] = Math.max(0, Math.min(255, Math.round(((level - low) * 255) / (high - low))));
  return mapped(image, table);
}

/** Grey levels squared (darker mid-tones: faint or glared bars). */
export function gammaDark(image) {
  const table = new Uint8Array(256);
  for (let level = 0; level < 256; level++) table[level] = Math.round(255 * (level / 255) ** 2);
  return mapped(image, table);
}

/** Black where a pixel is darker than the mean of its neighbourhood (1/16 of the short side). */
export function localThreshold({ width, height, data }) {
  const r = Math.max(4, Math.floor(Math.min(width, height) / 16));
  const sums = new Float64Array((width + 1) * (height + 1)); // integral image
  for (let y = 0; y < height; y++) {
    let row = 0;
    for (let x = 0; x < width; x++) {
      row += data[y * width + x];
      sums[(y + 1) * (width + 1) + x + 1] = sums[y * (width + 1) + x + 1] + row;
    }
  }
  const out = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    const y0 = Math.max(0, y - r);
    const y1 = Math.min(height, y + r + 1);
    for (let x = 0; x < width; x++) {
      const x0 = Math.max(0, x - r);
      const x1 = Math.min(width, x + r + 1);
      const total = sums[y1 * (width + 1) + x1] - sums[y0 * (width + 1) + x1] - sums[y1 * (width + 1) + x0] + sums[y0 * (width + 1) + x0];
      out[y * width + x] = data[y * width + x] - total / ((x1 - x0) * (y1 - y0)) >= -2 ? 255 : 0;
    }
  }
  return { width, height, data: out };
}

export const PREPARE = { gray: (image) => image, half, equalize, autocontrast, gamma_dark: gammaDark, local_threshold: localThreshold };
export const BINARIZED = new Set(['local_threshold']);
