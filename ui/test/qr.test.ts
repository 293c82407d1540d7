import { describe, expect, it } from 'vitest';
import { drawQr, moduleScale, QUIET, validQr, type QrContext } from '../src/qr';
import { fakeQr } from '../src/mock';

function recorder() {
  const rects: Array<[string, number, number, number, number]> = [];
  const ctx: QrContext & { rects: typeof rects } = {
    fillStyle: '',
    rects,
    fillRect(x, y, w, h) {
      rects.push([String(this.fillStyle), x, y, w, h]);
    },
  };
  return ctx;
}

/** A 21×21 grid with a few dark runs. */
function grid(dark: Array<[number, number]>): { width: number; modules: string } {
  const m = Array.from({ length: 21 * 21 }, () => '0');
  for (const [r, c] of dark) m[r * 21 + c] = '1';
  return { width: 21, modules: m.join('') };
}

describe('QR drawing', () => {
  it('paints the light square, then one rectangle per dark run, offset by the quiet zone', () => {
    const ctx = recorder();
    expect(drawQr(ctx, grid([[0, 0], [0, 1], [0, 2], [0, 5], [20, 20]]), 3)).toBe(true);
    const side = (21 + 2 * QUIET) * 3;
    expect(ctx.rects).toEqual([
      ['#ffffff', 0, 0, side, side],
      ['#000000', 12, 12, 9, 3],
      ['#000000', 27, 12, 3, 3],
      ['#000000', 72, 72, 3, 3],
    ]);
  });
  it('covers exactly the dark modules', () => {
    const qr = fakeQr(33);
    const ctx = recorder();
    drawQr(ctx, qr, 2);
    const area = ctx.rects.slice(1).reduce((n, [, , , w, h]) => n + w * h, 0);
    expect(area).toBe([...qr.modules].filter((c) => c === '1').length * 4);
  });
  it('refuses malformed views and draws nothing', () => {
    for (const bad of [
      { width: 21, modules: '0'.repeat(440) },
      { width: 21, modules: '2'.repeat(441) },
      { width: 21, modules: '<'.repeat(441) },
      { width: 3, modules: '0'.repeat(9) },
      { width: 21.5, modules: '' },
    ]) {
      const ctx = recorder();
      expect(validQr(bad)).toBe(false);
      expect(drawQr(ctx, bad, 4)).toBe(false);
      expect(ctx.rects).toEqual([]);
    }
    expect(drawQr(recorder(), grid([]), 0)).toBe(false);
  });
  it('chooses whole pixels per module', () => {
    expect(moduleScale(33, 220)).toBe(5);
    expect(moduleScale(177, 100)).toBe(1);
  });
});
