// Vite build config for the phone app. Relative base so the build works from
// any path (a static host, Tailscale Serve, or the daemon's own server).
// Unit tests use vitest.config.ts, not this file.
import { defineConfig } from 'vite';
import { reinsServiceWorker } from './build/sw-plugin';

export default defineConfig({
  base: './',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsDir: 'assets',
    rollupOptions: {
      output: {
        // Hashed names: immutable assets, cache-safe.
        entryFileNames: 'assets/[name]-[hash].js',
        chunkFileNames: 'assets/[name]-[hash].js',
        assetFileNames: 'assets/[name]-[hash][extname]',
      },
    },
  },
  plugins: [
    // ── PLUGINS GO HERE (UI engineer) ─────────────────────────────────────
    // e.g. a plugin that writes the service worker's precache list from the
    // bundle in `generateBundle`. Keep the core's settings above unchanged.
    // ──────────────────────────────────────────────────────────────────────
    reinsServiceWorker(),
  ],
});
