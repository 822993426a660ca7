import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkDigitOk, decide, formatName, spell, upceExpand } from '../reader/trust.js';
import { autocontrast, equalize, grayOf, half, localThreshold } from '../reader/pixels.js';

const read = (source, format, text, box = [10, 10, 100, 40]) => ({ source, format, text, gs1: false, box });

test('a linear code needs two independent reads that agree', () => {
  assert.deepEqual(decide([read('zxing/histogram', 'code128', 'SN-1')]), []);
  assert.deepEqual(decide([read('zxing/histogram', 'code128', 'SN-1'), read('zxing/histogram', 'code128', 'SN-1')]), []);
  assert.deepEqual(decide([read('zxing/histogram', 'code128', 'SN-1'), read('zxing/local', 'code128', 'SN-1')]),
    [{ format: 'code128', text: 'SN-1', gs1: false }]);
});

test('a 2D code is trusted on one read; one place with two answers is dropped', () => {
  assert.deepEqual(decide([read('zxing/local', 'qrcode', 'U:SN-1')]).map((s) => s.text), ['U:SN-1']);
  assert.deepEqual(decide([read('zxing/local', 'qrcode', 'U:SN-1'), read('zxing/histogram', 'qrcode', 'U:SN-2')]), []);
});

test('EAN/UPC digits must carry their check digit; a leading 0 makes an EAN-13 a UPC-A', () => {
  assert.ok(checkDigitOk('ean13', '5030159003930'));
  assert.ok(!checkDigitOk('ean13', '5030159003931'));
  const misread = [read('zxing/local', 'ean13', '5030159003931'), read('zxing/histogram', 'ean13', '5030159003931')];
  assert.deepEqual(decide(misread), []);
  assert.deepEqual(spell('ean13', '0012546619592'), ['upca', '012546619592']);
  assert.equal(upceExpand('01234565'), '012345000065');
  assert.equal(formatName('EAN-13'), 'ean13');
  assert.equal(formatName('QRCode'), 'qrcode');
  assert.equal(formatName('MaxiCode'), null);
});

test('grey copies keep their size and range', () => {
  const rgba = new Uint8ClampedArray(4 * 4 * 4).map((_, i) => (i % 4 === 3 ? 255 : (i * 13) % 256));
  const gray = grayOf(4, 4, rgba);
  assert.equal(gray.data.length, 16);
  assert.deepEqual([half(gray).width, half(gray).height], [2, 2]);
  for (const copy of [equalize(gray), autocontrast(gray), localThreshold(gray)]) assert.equal(copy.data.length, 16);
  assert.ok(localThreshold(gray).data.every((v) => v === 0 || v === 255));
  assert.equal(Math.max(...autocontrast(gray).data), 255);
});
