import { existsSync } from 'node:fs';
import { defineConfig } from '@playwright/test';

// Debian's Chromium when present (test tools cannot download browsers here); otherwise Playwright's own.
const debianChromium = '/usr/bin/chromium';
const executablePath = process.env.CHROMIUM_PATH ?? (existsSync(debianChromium) ? debianChromium : undefined);
const port = Number(process.env.E2E_PORT ?? 4174);

export default defineConfig({
  testDir: 'e2e',
  // The README screenshot generator is not a test: it runs only when asked (SCREENSHOTS=1), so no run skips it.
  testIgnore: process.env['SCREENSHOTS'] === '1' ? [] : ['**/screenshots.spec.ts'],
  timeout: 180_000,
  expect: { timeout: 60_000 },
  fullyParallel: false,
  workers: 1,
  reporter: [['list']],
  // prints one loud line naming the specs skipped for missing data (scripts/lib/needs.ts)
  globalSetup: './scripts/lib/needsReport.ts',
  use: {
    baseURL: `http://localhost:${port}`,
    headless: true,
    launchOptions: {
      ...(executablePath ? { executablePath } : {}),
      args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--enable-unsafe-webgpu'],
    },
  },
  webServer: {
    // The built app, served by vite preview with the COOP/COEP headers (npm run test:e2e builds first).
    command: `npx vite preview --port ${port} --strictPort`,
    url: `http://localhost:${port}`,
    reuseExistingServer: false,
    timeout: 60_000,
  },
});
