// Vite build config for the desktop window. The tray shell (src-tauri/) loads
// ui/dist/ (committed, so `cargo build` needs no npm). Relative base: Tauri
// serves the files from its own origin. The output is deterministic:
// scripts/test.sh rebuilds and diffs it against the committed dist/.
// Unit tests use vitest.config.ts, not this file.
import { defineConfig } from 'vite';

export default defineConfig({
  base: './',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsDir: 'assets',
    target: 'es2022',
    // Tauri embeds the files; a source map would only grow the binary.
    sourcemap: false,
    rollupOptions: {
      output: {
        entryFileNames: 'assets/[name]-[hash].js',
        chunkFileNames: 'assets/[name]-[hash].js',
        assetFileNames: 'assets/[name]-[hash][extname]',
      },
    },
  },
  server: { port: 5190, strictPort: true },
});
