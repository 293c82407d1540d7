// Draws a QR code from the shell's QrView (modules as '0'/'1', row by row) on
// a canvas: dark modules on white with a 4-module quiet zone, whole device
// pixels per module so scanners see sharp edges. No markup is generated. Always
// dark on light, in dark mode too (scanners expect it).

import type { QrView } from './bindings/QrView';

/** The part of CanvasRenderingContext2D used here (tests pass a recorder). */
export interface QrContext {
  fillStyle: string | CanvasGradient | CanvasPattern;
  fillRect(x: number, y: number, w: number, h: number): void;
}

export const QUIET = 4;

/** Checks a QrView: 21..177 modules a side, exactly width² '0'/'1' characters. */
export function validQr(qr: QrView): boolean {
  return (
    Number.isInteger(qr.width) &&
    qr.width >= 21 &&
    qr.width <= 177 &&
    qr.modules.length === qr.width * qr.width &&
    /^[01]*$/.test(qr.modules)
  );
}

/** Pixels per module for a canvas of about `targetPx` (at least 1). */
export function moduleScale(width: number, targetPx: number): number {
  return Math.max(1, Math.floor(targetPx / (width + 2 * QUIET)));
}

/**
 * Paints `qr` at `scale` pixels per module into a (width + 8) × scale square:
 * the light background once, then one rectangle per run of dark modules in a
 * row. Returns false (and paints nothing) for an invalid QrView.
 */
export function drawQr(ctx: QrContext, qr: QrView, scale: number): boolean {
  if (!validQr(qr) || scale < 1) return false;
  const side = (qr.width + 2 * QUIET) * scale;
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, side, side);
  ctx.fillStyle = '#000000';
  for (let y = 0; y < qr.width; y++) {
    let x = 0;
    while (x < qr.width) {
      if (qr.modules[y * qr.width + x] !== '1') {
        x++;
        continue;
      }
      const start = x;
      while (x < qr.width && qr.modules[y * qr.width + x] === '1') x++;
      ctx.fillRect((start + QUIET) * scale, (y + QUIET) * scale, (x - start) * scale, scale);
    }
  }
  return true;
}

/** Sizes `canvas` for `qr` at about `cssPx` CSS pixels and draws it. */
export function paintQrCanvas(canvas: HTMLCanvasElement, qr: QrView, cssPx: number): boolean {
  const dpr = Math.max(1, Math.round(window.devicePixelRatio || 1));
  const scale = moduleScale(qr.width, cssPx * dpr);
  const side = (qr.width + 2 * QUIET) * scale;
  canvas.width = side;
  canvas.height = side;
  canvas.style.width = `${side / dpr}px`;
  canvas.style.height = `${side / dpr}px`;
  const ctx = canvas.getContext('2d');
  return ctx !== null && drawQr(ctx, qr, scale);
}
