// Vitest config for the window's unit tests (test/*.test.ts). The pure parts
// run in node; the few DOM tests build their own tiny document stand-ins.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
  },
});
