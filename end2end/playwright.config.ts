import { defineConfig } from '@playwright/test';
import * as os from 'node:os';
import * as path from 'node:path';
import * as fs from 'node:fs';

import { servers } from './servers';

// The harness (`make test-e2e`) passes the built server, free ports, and a fresh data dir.
const bin = process.env.LOTSEN_BIN ?? 'lotsen';
const dataDir =
  process.env.LOTSEN_E2E_DATA ?? fs.mkdtempSync(path.join(os.tmpdir(), 'lotsen-e2e-'));
const [port] = servers.ports;
const baseURL = servers.demo;
const root = path.resolve(__dirname, '..');

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
  // A test walks a whole flow and checks each page with axe twice (as shown, and at 320 px).
  timeout: 60_000,
  reporter: [['list'], ['json', { outputFile: 'test-results/results.json' }]],
  // An English browser: the service must still start in Swedish.
  use: { baseURL, locale: 'en-GB', trace: 'off' },
  // Every test runs twice: hydrated, and with JavaScript disabled (progressive enhancement).
  projects: [
    { name: 'hydrated', use: { ...chromium, javaScriptEnabled: true } },
    { name: 'no-js', use: { ...chromium, javaScriptEnabled: false } },
  ],
  webServer: [
    {
      // Every browser test comes from one address, and each enters the demo or switches role
      // several times: the per-address sign-in limit (tested in server/tests/web/access.rs) would
      // refuse the later tests, so it is set out of reach here.
      command: `"${bin}" serve --addr 127.0.0.1:${port} --database-url "sqlite://${dataDir}/lotsen.db?mode=rwc" --sign-in-burst 100000`,
      cwd: root,
      url: `${baseURL}/readyz`,
      reuseExistingServer: false,
      timeout: 60_000,
      stdout: 'ignore',
      stderr: 'pipe',
    },
    {
      command: `node end2end/idp/server.mjs main ${servers.ports[3]} ${servers.ports[4]} ${servers.real} ${servers.slowClock} ${servers.strict}`,
      cwd: root,
      url: `${servers.siths}/.well-known/openid-configuration`,
      reuseExistingServer: false,
      timeout: 30_000,
      stdout: 'ignore',
      stderr: 'ignore',
    },
    {
      command: `node end2end/idp/server.mjs other ${servers.ports[5]} ${servers.ports[6]} ${servers.real} ${servers.slowClock}`,
      cwd: root,
      url: `${servers.sithsInToken}/.well-known/openid-configuration`,
      reuseExistingServer: false,
      timeout: 30_000,
      stdout: 'ignore',
      stderr: 'ignore',
    },
    {
      command: `bash end2end/real-mode.sh "${bin}" ${servers.ports[1]} "${dataDir}/real" seed`,
      cwd: root,
      env: {
        LOTSEN_PUBLIC_URL: servers.real,
        LOTSEN_PATIENT_OIDC_ISSUER: servers.bankid,
        LOTSEN_PATIENT_OIDC_CLIENT_ID: 'lotsen-patient',
        LOTSEN_PATIENT_OIDC_CLIENT_SECRET: 'patient-secret-for-tests-only',
        LOTSEN_STAFF_OIDC_ISSUER: servers.siths,
        LOTSEN_STAFF_OIDC_CLIENT_ID: 'lotsen-staff',
        LOTSEN_STAFF_OIDC_CLIENT_SECRET: 'staff-secret-for-tests-only',
        LOTSEN_STAFF_OIDC_SCOPES: 'profile hsa',
      },
      url: `${servers.real}/readyz`,
      reuseExistingServer: false,
      timeout: 60_000,
      // Its log says why a login failed, if one does.
      stdout: 'pipe',
      stderr: 'pipe',
    },
    {
      command: `bash end2end/real-mode.sh "${bin}" ${servers.ports[7]} "${dataDir}/strict" seed`,
      cwd: root,
      env: {
        LOTSEN_PUBLIC_URL: servers.strict,
        LOTSEN_PATIENT_OIDC_ISSUER: servers.bankid,
        LOTSEN_PATIENT_OIDC_CLIENT_ID: 'lotsen-patient',
        LOTSEN_PATIENT_OIDC_CLIENT_SECRET: 'patient-secret-for-tests-only',
        LOTSEN_PATIENT_OIDC_ACR: 'http://id.elegnamnden.se/loa/1.0/loa4',
        LOTSEN_STAFF_OIDC_ISSUER: servers.siths,
        LOTSEN_STAFF_OIDC_CLIENT_ID: 'lotsen-staff',
        LOTSEN_STAFF_OIDC_CLIENT_SECRET: 'staff-secret-for-tests-only',
        LOTSEN_STAFF_OIDC_SCOPES: 'profile hsa',
        LOTSEN_STAFF_OIDC_MAX_AGE: '600',
      },
      url: `${servers.strict}/readyz`,
      reuseExistingServer: false,
      timeout: 60_000,
      stdout: 'pipe',
      stderr: 'pipe',
    },
    {
      command: `bash end2end/real-mode.sh "${bin}" ${servers.ports[2]} "${dataDir}/slow-clock" seed`,
      cwd: root,
      env: {
        LOTSEN_PUBLIC_URL: servers.slowClock,
        LOTSEN_PATIENT_OIDC_ISSUER: servers.other,
        LOTSEN_PATIENT_OIDC_CLIENT_ID: 'lotsen-patient',
        LOTSEN_PATIENT_OIDC_CLIENT_SECRET: 'patient-secret-for-tests-only',
        LOTSEN_STAFF_OIDC_ISSUER: servers.sithsInToken,
        LOTSEN_STAFF_OIDC_CLIENT_ID: 'lotsen-staff',
        LOTSEN_STAFF_OIDC_CLIENT_SECRET: 'staff-secret-for-tests-only',
        LOTSEN_STAFF_OIDC_SCOPES: 'profile hsa',
      },
      url: `${servers.slowClock}/readyz`,
      reuseExistingServer: false,
      timeout: 60_000,
      stdout: 'pipe',
      stderr: 'pipe',
    },
  ],
});
