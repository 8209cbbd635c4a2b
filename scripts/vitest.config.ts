import { defineConfig } from 'vitest/config';

// One vitest run for the whole workspace. Workspace packages resolve to their TypeScript sources
// (the "@tbi/source" export condition), so unit tests need no build; tests that spawn the real
// `tbi` process use the built dist/ (scripts/test.sh builds first).
const conditions = ['@tbi/source', 'node', 'import', 'module', 'default'];

export default defineConfig({
  root: new URL('..', import.meta.url).pathname,
  resolve: { conditions },
  ssr: { resolve: { conditions } },
  test: {
    include: ['{packages,plugins,host,examples,scripts}/**/*.test.ts', '{packages,plugins,host,examples}/*/test/**/*.test.ts', 'host/test/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    pool: 'forks',
    reporters: ['default'],
  },
});
