import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // Inside this repo, `import … from 'keiko'` means the sources (as tsconfig's paths say for tsc and tsx).
  resolve: {
    alias: [
      { find: /^keiko\/testing$/, replacement: fileURLToPath(new URL('./src/testing/index.ts', import.meta.url)) },
      { find: /^keiko\/search$/, replacement: fileURLToPath(new URL('./src/search/index.ts', import.meta.url)) },
      { find: /^keiko\/proxy$/, replacement: fileURLToPath(new URL('./src/proxy/index.ts', import.meta.url)) },
      { find: /^keiko$/, replacement: fileURLToPath(new URL('./src/index.ts', import.meta.url)) },
    ],
  },
  test: {
    include: ['src/**/*.test.ts', 'environments/**/*.test.ts', 'test/**/*.test.ts', 'examples/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
