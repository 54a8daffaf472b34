import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'scripts/**/*.test.ts', 'workers/**/*.test.ts'],
    environment: 'node',
    testTimeout: 60_000,
    // prints one loud line naming the tests skipped for missing data (scripts/lib/needs.ts)
    globalSetup: ['scripts/lib/needsReport.ts'],
  },
});
