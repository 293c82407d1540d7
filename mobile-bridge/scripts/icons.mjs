// Renders the app icons into public/ as PNG (no image tools needed: a tiny
// rasteriser and PNG writer over node:zlib). The glyph is a white horseshoe
// (control, the "reins") with a dot, on Reins blue. "any" icons have rounded
// corners; maskable and Apple icons are full-bleed with the glyph inside the
// safe zone. Run from mobile-bridge/: node scripts/icons.mjs
import { writeFileSync, mkdirSync } from 'node:fs';
import { deflateSync } from 'node:zlib';

const BG = [0x1f, 0x6f, 0xeb];
const FG = [0xff, 0xff, 0xff];

const crcTable = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}
function png(size, rgba) {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 8; ihdr[9] = 6; ihdr[10] = 0; ihdr[11] = 0; ihdr[12] = 0;
  const raw = Buffer.alloc((size * 4 + 1) * size);
  for (let y = 0; y < size; y++) {
    raw[y * (size * 4 + 1)] = 0;
    rgba.copy(raw, y * (size * 4 + 1) + 1, y * size * 4, (y + 1) * size * 4);
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw, { level: 9 })), chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** Coverage tests in unit coordinates (0..1). */
function inRoundRect(x, y, r) {
  const cx = Math.min(Math.max(x, r), 1 - r);
  const cy = Math.min(Math.max(y, r), 1 - r);
  return (x - cx) ** 2 + (y - cy) ** 2 <= r * r;
}
function inGlyph(x, y, scale) {
  const c = 0.5, R = 0.5 * scale * 0.78, T = scale * 0.17, gap = (38 * Math.PI) / 180;
  const dx = x - c, dy = y - (c - 0.02 * scale);
  if (Math.hypot(x - c, y - (c + 0.04 * scale)) <= scale * 0.1) return true; // the dot
  const a = Math.atan2(dy, dx); // 0 = right, +π/2 = down
  const fromBottom = Math.abs(a - Math.PI / 2);
  const gapDist = Math.min(fromBottom, 2 * Math.PI - fromBottom);
  if (gapDist >= gap) return Math.abs(Math.hypot(dx, dy) - R) <= T / 2;
  // Round caps at both ends of the opening.
  for (const s of [-1, 1]) {
    const ea = Math.PI / 2 + s * gap;
    const ex = R * Math.cos(ea), ey = R * Math.sin(ea);
    if (Math.hypot(dx - ex, dy - ey) <= T / 2) return true;
  }
  return false;
}

function render(size, { rounded, scale }) {
  const buf = Buffer.alloc(size * size * 4);
  const N = 4; // 4×4 supersampling
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      let bg = 0, fg = 0;
      for (let sy = 0; sy < N; sy++) {
        for (let sx = 0; sx < N; sx++) {
          const x = (px + (sx + 0.5) / N) / size, y = (py + (sy + 0.5) / N) / size;
          if (rounded && !inRoundRect(x, y, 0.2)) continue;
          if (inGlyph(x, y, scale)) fg++;
          else bg++;
        }
      }
      const cover = (bg + fg) / (N * N);
      const o = (py * size + px) * 4;
      const f = fg / Math.max(1, bg + fg);
      for (let i = 0; i < 3; i++) buf[o + i] = Math.round(BG[i] * (1 - f) + FG[i] * f);
      buf[o + 3] = Math.round(cover * 255);
    }
  }
  return png(size, buf);
}

mkdirSync('public', { recursive: true });
const icons = [
  ['icon-192.png', 192, { rounded: true, scale: 0.62 }],
  ['icon-512.png', 512, { rounded: true, scale: 0.62 }],
  ['icon-maskable-512.png', 512, { rounded: false, scale: 0.5 }],
  ['apple-touch-icon.png', 180, { rounded: false, scale: 0.6 }],
];
for (const [name, size, o] of icons) {
  writeFileSync(`public/${name}`, render(size, o));
  console.log(`public/${name}`);
}
