import { defineConfig } from '@playwright/test';
import * as os from 'node:os';
import * as path from 'node:path';
import * as fs from 'node:fs';

// The harness (`make test-e2e`) passes the built server, a free port, and a fresh data dir.
const port = process.env.LOTSEN_E2E_PORT ?? '3900';
const bin = process.env.LOTSEN_BIN ?? 'lotsen';
const dataDir =
  process.env.LOTSEN_E2E_DATA ?? fs.mkdtempSync(path.join(os.tmpdir(), 'lotsen-e2e-'));
const baseURL = `http://127.0.0.1:${port}`;

// Debian's Chromium: Playwright never downloads a browser here.
const chromium = {
  browserName: 'chromium' as const,
  launchOptions: {
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  },
};

export default defineConfig({
  testDir: './tests',
  fullyParallel: true,
  forbidOnly: !!process.env.CI,
  retries: 0,
  workers: 2,
  reporter: [['list'], ['json', { outputFile: 'test-results/results.json' }]],
  // An English browser: the service must still start in Swedish.
  use: { baseURL, locale: 'en-GB', trace: 'off' },
  // Every test runs twice: hydrated, and with JavaScript disabled (progressive enhancement).
  projects: [
    { name: 'hydrated', use: { ...chromium, javaScriptEnabled: true } },
    { name: 'no-js', use: { ...chromium, javaScriptEnabled: false } },
  ],
  webServer: {
    command: `"${bin}" serve --addr 127.0.0.1:${port} --database-url "sqlite://${dataDir}/lotsen.db?mode=rwc"`,
    cwd: path.resolve(__dirname, '..'),
    url: `${baseURL}/readyz`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: 'ignore',
    stderr: 'pipe',
  },
});
