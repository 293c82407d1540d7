// Vite plugin that emits dist/sw.js: compiles src/sw.ts and fills in the
// precache list with the real (hashed) file names of this build, plus the
// public files (manifest, icons), and a version derived from their contents
// so each build gets a fresh cache. Build only; in dev no SW is registered.

import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { transformWithOxc, type Plugin, type ResolvedConfig } from 'vite';

const SOURCE = 'src/sw.ts';
const OUT = 'sw.js';

function publicFiles(dir: string): string[] {
  let out: string[] = [];
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return out;
  }
  for (const n of names) {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) out = out.concat(publicFiles(p));
    else out.push(p);
  }
  return out;
}

export function reinsServiceWorker(): Plugin {
  let config: ResolvedConfig;
  return {
    name: 'reins-service-worker',
    apply: 'build',
    configResolved(c) {
      config = c;
    },
    // After Vite's own HTML plugin, so index.html is in the bundle.
    generateBundle: { order: 'post', async handler(_options, bundle) {
      const hash = createHash('sha256');
      const files: string[] = [];
      for (const [name, item] of Object.entries(bundle).sort(([a], [b]) => a.localeCompare(b))) {
        if (name.endsWith('.map') || name === OUT) continue;
        files.push(name);
        hash.update(name);
        hash.update(item.type === 'chunk' ? item.code : item.source);
      }
      const pub = config.publicDir ? publicFiles(config.publicDir) : [];
      for (const p of pub.sort()) {
        const name = relative(config.publicDir, p).split('\\').join('/');
        if (name === OUT) continue;
        files.push(name);
        hash.update(name);
        hash.update(readFileSync(p));
      }
      const srcPath = resolve(config.root, SOURCE);
      const src = readFileSync(srcPath, 'utf8');
      hash.update(src);
      const version = hash.digest('hex').slice(0, 16);
      const { code } = await transformWithOxc(src, srcPath, { lang: 'ts' });
      if (!files.includes('index.html')) this.error('index.html is not in the bundle: the shell would not work offline');
      const precache = JSON.stringify(files);
      const out = code
        .replace(/^export\s*\{\s*\};?.*$/m, '')
        .replace(/__REINS_PRECACHE__/g, precache)
        .replace(/__REINS_VERSION__/g, JSON.stringify(version));
      if (/\bexport\b|\bimport\s/.test(out)) this.error(`${SOURCE} must stay a plain script (no import/export)`);
      this.emitFile({ type: 'asset', fileName: OUT, source: `// Reins service worker, build ${version}\n${out}` });
    } },
  };
}
