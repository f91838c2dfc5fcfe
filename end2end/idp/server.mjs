// Test identity providers for the browser tests: real OpenID Connect providers (the npm
// package oidc-provider) with made-up people.
//
//   node idp/server.mjs main <bankid-port> <siths-port> <redirect-base>...
//       a BankID-like e-ID broker (patients) and a SITHS-like provider (staff)
//   node idp/server.mjs other <port> <in-token-port> <redirect-base>...
//       a provider Lotsen does not trust, whose token endpoint's clock is two hours slow
//       (its ID tokens have expired when they are issued); and a SITHS-like provider that
//       puts the profile claims in the ID token itself
//
// The main providers are conformant: the ID token carries `sub` and the protocol's claims,
// and names, identity numbers and assignments come from the UserInfo endpoint (as OpenID
// Connect Core says, unless the client asks otherwise). Swedish brokers often put them in the
// ID token instead; the in-token provider keeps that case tested.
//
// Every provider accepts any password: the account is chosen by the login name. Consent is
// implied (Lotsen is a first-party client), so a login is one form.

import http from 'node:http';
import { AsyncLocalStorage } from 'node:async_hooks';
import Provider from 'oidc-provider';

const PIN_CLAIM = 'https://id.oidc.se/claim/personalIdentityNumber';
const PIN_SCOPE = 'https://id.oidc.se/scope/naturalPersonNumber';
const CARE = 'Vård och behandling';
const ORG = '2321990018';

const patients = {
  tolvan: { given_name: 'Tolvan', family_name: 'Tolvansson', [PIN_CLAIM]: '191212121212' },
  // Patients of the care flow through the real providers: one for each browser project.
  petra: { given_name: 'Petra', family_name: 'Patient', [PIN_CLAIM]: '199107172380' },
  olle: { given_name: 'Olle', family_name: 'Exempel', [PIN_CLAIM]: '199006022397' },
  // Patients whose first form raises no flag: again one for each browser project.
  stina: { given_name: 'Stina', family_name: 'Stilla', [PIN_CLAIM]: '198503112388' },
  sven: { given_name: 'Sven', family_name: 'Lugn', [PIN_CLAIM]: '197806244575' },
  // The last digit is not the check digit.
  felaktig: { given_name: 'Felix', family_name: 'Felaktig', [PIN_CLAIM]: '191212121213' },
};

const commission = (id, name, purpose, unit) => ({
  commissionHsaId: `SE${ORG}-${id}`,
  commissionName: name,
  commissionPurpose: purpose,
  commissionRight: 'Läsa;Alla;Sjf=nej',
  healthCareUnitHsaId: `SE${ORG}-${unit}`,
  healthCareProviderHsaId: `SE${ORG}-0001`,
});

const staff = {
  tove: {
    given_name: 'Tove',
    family_name: 'Terapeut',
    employeeHsaId: `SE${ORG}-T1`,
    commissions: [
      commission('UT1', 'Psykolog', CARE, 'E1'),
      commission('UT2', 'Psykolog, vårdcentralen', CARE, 'E2'),
      // A unit that does not use Lotsen: never offered.
      commission('UT3', 'Psykolog, annan mottagning', CARE, 'E9'),
    ],
  },
  alva: {
    given_name: 'Alva',
    family_name: 'Admin',
    employeeHsaId: `SE${ORG}-A1`,
    commissions: [commission('UA1', 'Behörighetsadministratör', 'Administration', 'E1')],
  },
  gun: {
    given_name: 'Gun',
    family_name: 'Granskare',
    employeeHsaId: `SE${ORG}-G1`,
    commissions: [commission('UG1', 'Granskare', 'Uppföljning', 'E1')],
  },
  nils: {
    given_name: 'Nils',
    family_name: 'Nolläge',
    employeeHsaId: `SE${ORG}-N1`,
    commissions: [commission('UN1', 'Statistik', 'Uppföljning', 'E1')],
  },
};

function provider(issuer, accounts, scopes, redirectBases, { claimsInIdToken = false } = {}) {
  const redirects = (kind) => redirectBases.map((base) => `${base}/login/${kind}/callback`);
  const configuration = {
    clients: [
      {
        client_id: 'lotsen-patient',
        client_secret: 'patient-secret-for-tests-only',
        redirect_uris: redirects('patient'),
        grant_types: ['authorization_code'],
        response_types: ['code'],
      },
      {
        client_id: 'lotsen-staff',
        client_secret: 'staff-secret-for-tests-only',
        redirect_uris: redirects('staff'),
        grant_types: ['authorization_code'],
        response_types: ['code'],
      },
    ],
    claims: {
      openid: ['sub'],
      profile: ['given_name', 'family_name'],
      [PIN_SCOPE]: [PIN_CLAIM],
      hsa: ['employeeHsaId', 'commissions'],
    },
    scopes: ['openid', ...scopes],
    // Conformant: profile claims from UserInfo only. Or all of them in the ID token.
    conformIdTokenClaims: !claimsInIdToken,
    pkce: { required: () => true },
    cookies: { keys: ['test-only-cookie-key'] },
    features: { devInteractions: { enabled: true } },
    async findAccount(_ctx, id) {
      const claims = accounts[id];
      if (!claims) return undefined;
      return { accountId: id, claims: async () => ({ sub: id, ...claims }) };
    },
    // A first-party client: the grant covers whatever it asked for, no consent screen.
    async loadExistingGrant(ctx) {
      const existing =
        ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
      if (existing) return ctx.oidc.provider.Grant.find(existing);
      const grant = new ctx.oidc.provider.Grant({
        clientId: ctx.oidc.client.clientId,
        accountId: ctx.oidc.session.accountId,
      });
      grant.addOIDCScope([...ctx.oidc.requestParamScopes].join(' '));
      await grant.save();
      return grant;
    },
  };
  return new Provider(issuer, configuration);
}

function listen(app, port) {
  return new Promise((resolve) => {
    http.createServer(app.callback()).listen(port, '127.0.0.1', resolve);
  });
}

const [mode, ...args] = process.argv.slice(2);
if (mode === 'main') {
  const [bankidPort, sithsPort, ...bases] = args;
  const bankid = provider(`http://127.0.0.1:${bankidPort}`, patients, ['profile', PIN_SCOPE], bases);
  const siths = provider(`http://127.0.0.1:${sithsPort}`, staff, ['profile', 'hsa'], bases);
  await listen(bankid, bankidPort);
  await listen(siths, sithsPort);
} else if (mode === 'other') {
  const [port, inTokenPort, ...bases] = args;
  const inToken = provider(`http://127.0.0.1:${inTokenPort}`, staff, ['profile', 'hsa'], bases, {
    claimsInIdToken: true,
  });
  await listen(inToken, inTokenPort);
  // Only the token endpoint runs two hours behind: its ID tokens are born expired, while the
  // login pages and their cookies keep the right time.
  const slow = new AsyncLocalStorage();
  const realNow = Date.now;
  Date.now = () => realNow() - (slow.getStore() ?? 0);
  const other = provider(`http://127.0.0.1:${port}`, patients, ['profile', PIN_SCOPE], bases);
  other.use(async (ctx, next) =>
    ctx.path === '/token' ? slow.run(2 * 60 * 60 * 1000, next) : next(),
  );
  await listen(other, port);
} else {
  console.error(
    'usage: server.mjs main <bankid-port> <siths-port> <base>... | other <port> <in-token-port> <base>...',
  );
  process.exit(2);
}
console.log(`identity provider(s) ready: ${mode} ${args.join(' ')}`);
