// Where the browser tests find each server. The harness (`make test-e2e`) passes eight free
// ports; run by hand, the defaults below are used.
const ports = (process.env.LOTSEN_E2E_PORTS ?? '3900,3901,3902,3903,3904,3905,3906,3907')
  .split(',')
  .map((p) => Number(p));
const url = (port: number) => `http://127.0.0.1:${port}`;

export const servers = {
  /** Demo mode: no identity provider. */
  demo: url(ports[0]),
  /** Real mode: signs patients in at `bankid` and staff at `siths`. */
  real: url(ports[1]),
  /**
   * Real mode whose patient identity provider is `other` (a slow clock), and whose staff sign
   * in at `sithsInToken`.
   */
  slowClock: url(ports[2]),
  /** A BankID-like e-ID broker (patients). */
  bankid: url(ports[3]),
  /** A SITHS-like identity provider (staff). */
  siths: url(ports[4]),
  /** A provider Lotsen does not trust, whose token endpoint runs two hours slow. */
  other: url(ports[5]),
  /** A SITHS-like provider that puts names, HSA-ID and assignments in the ID token. */
  sithsInToken: url(ports[6]),
  /**
   * Real mode that asks more of a sign-in: patients (at `bankid`) must come with a level of
   * assurance the test broker never states, staff (at `siths`) must have authenticated within
   * the last ten minutes (`max_age`).
   */
  strict: url(ports[7]),
  ports,
};
