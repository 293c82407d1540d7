// Vitest config for the core's unit tests (test/*.test.ts), run in node.
// Separate from vite.config.ts so build plugins never affect the tests.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // test/live needs a real reins binary: REINS_LIVE=1 npx vitest run test/live
    environment: 'node',
  },
});
