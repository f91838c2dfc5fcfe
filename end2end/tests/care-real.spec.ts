import type { Browser, Page } from '@playwright/test';
import { test, expect, expectAccessible, open, atProvider } from './fixtures';
import { servers } from '../servers';

// Care through the real identity providers (end2end/idp), in real mode: the program "Må
// bättre" is installed and active at Psykiatrimottagning Test (end2end/real-mode.sh).
test.use({ baseURL: servers.real });

/** A browser of the person's own, signed in at the provider; staff land where their role has them. */
async function signedIn(
  browser: Browser,
  hydrated: boolean,
  as: 'patient' | 'staff',
  login: string,
  home = as === 'staff' ? '/mottagning' : '/mina-sidor',
) {
  const context = await browser.newContext({ baseURL: servers.real, javaScriptEnabled: hydrated });
  const page = await context.newPage();
  await open(page, '/logga-in', hydrated);
  const button = as === 'patient' ? 'Logga in med e-legitimation' : 'Logga in med SITHS-kort';
  await page.getByRole('button', { name: button }).click();
  await atProvider(page, login);
  if (as === 'staff') {
    await page.getByLabel(/^Psykiatrimottagning Test, Region Test/).check();
    await page.getByRole('button', { name: 'Fortsätt' }).click();
  }
  await expect(page).toHaveURL(new RegExp(`${home}$`));
  return page;
}

/** Answers the first PHQ-9 of the treatment: every item 0, item 9 (thoughts of death) as given. */
async function answerPhq9(page: Page, treatment: string, item9: '0' | '1') {
  await page.goto(treatment);
  await page
    .getByRole('region', { name: 'Formulär att besvara' })
    .getByRole('link', { name: 'PHQ-9' })
    .click();
  const form = page.getByRole('region', { name: 'PHQ-9' });
  for (let n = 1; n <= 9; n++) {
    const answer = n === 9 ? item9 : '0';
    await form
      .getByRole('group', { name: `Fråga ${n}`, exact: true })
      .getByLabel(answer, { exact: true })
      .check();
  }
  await form.getByRole('button', { name: 'Skicka' }).click();
  await expect(form.getByText(/^Skickat/)).toBeVisible();
}

/** The patient's treatment overview, as they reach it from their start page. */
async function toTreatment(page: Page, hydrated: boolean) {
  await open(page, '/mina-sidor', hydrated);
  await page.getByRole('link', { name: 'Må bättre' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Må bättre');
}

test('through the real providers: enrolment, the first form with a risk answer (and another without), a module, homework, messages, feedback, results and the access log', async ({
  browser,
  hydrated,
}) => {
  // The whole course of care, by four people in turn: longer than one page's test.
  test.setTimeout(180_000);
  // One patient for each browser project: they run side by side on the one server.
  const who = hydrated
    ? { login: 'petra', number: '199107172380', name: 'Petra Patient' }
    : { login: 'olle', number: '199006022397', name: 'Olle Exempel' };
  // A second patient, whose answers raise no flag.
  const calm = hydrated
    ? { login: 'stina', number: '198503112388', name: 'Stina Stilla' }
    : { login: 'sven', number: '197806244575', name: 'Sven Lugn' };

  // The therapist signs in with SITHS and enrols the patients, who have never signed in.
  const therapist = await signedIn(browser, hydrated, 'staff', 'tove');
  const enrol = therapist.getByRole('region', { name: 'Skriv in patienter' });
  await enrol.getByLabel('Personnummer, ett per rad').fill(`${who.number}\n${calm.number}`);
  await enrol.getByLabel('Program').selectOption({ label: 'Må bättre 1.0' });
  await enrol.getByRole('button', { name: 'Skriv in' }).click();
  await expect(therapist.getByRole('link', { name: who.number })).toBeVisible();
  await expect(therapist.getByRole('link', { name: calm.number })).toBeVisible();
  expect(therapist.url()).not.toContain(who.number);
  await expectAccessible(therapist, hydrated);

  // The dashboard stays open from here on; with JavaScript it listens to the unit's events
  // over one stream. A mark on the window tells whether the page was ever loaded again.
  let streamsOpened = 0;
  if (hydrated) {
    // Live: waiting, or already updated by the other browser project's patient at this unit.
    await expect(therapist.locator('[data-live-status]')).toHaveText(
      /^(Uppdateras direkt när något händer\.|Översikten uppdaterades [0-9:]+\.)$/,
    );
    await therapist.evaluate(() => {
      (window as unknown as { stayed: number }).stayed = 1;
    });
    therapist.on('request', (request) => {
      if (request.url().includes('/mottagning/handelser')) streamsOpened += 1;
    });
  }

  // The patient signs in with e-ID: the treatment waits for the first form, which blocks.
  const patient = await signedIn(browser, hydrated, 'patient', who.login);
  await toTreatment(patient, hydrated);
  const treatment = patient.url();
  await expectAccessible(patient, hydrated);
  const blocked = await patient.goto(`${treatment}/oro-1/oro-valkommen`);
  expect(blocked?.status()).toBe(200);
  await expect(patient.getByText('Alla oroar sig ibland.')).toHaveCount(0);
  await answerPhq9(patient, treatment, '1');

  // A risk answer: what to do at once, before anything else.
  const crisis = patient.getByRole('alert').filter({ hasText: 'Behöver du hjälp nu?' });
  await expect(crisis).toContainText('112');
  await expect(crisis).toContainText('1177');
  await expectAccessible(patient, hydrated);

  // The therapist's dashboard shows the urgent flag: with JavaScript by itself, without a
  // reload and over the stream it had (no new connection, no polling); without JavaScript
  // after its refresh link.
  if (!hydrated) await therapist.getByRole('link', { name: 'Uppdatera' }).click();
  const flags = therapist.getByRole('region', { name: /Flaggor att hantera/ });
  const flag = flags.getByRole('listitem').filter({ hasText: who.name });
  await expect(flag).toContainText('Brådskande');
  await expect(flag).toContainText('PHQ-9 fråga 9: tankar på döden');
  await expect(flag).toContainText('Inte kvitterad');
  if (hydrated) {
    await expect(therapist.locator('[data-live-status]')).toContainText('Översikten uppdaterades');
    expect(await therapist.evaluate(() => (window as unknown as { stayed?: number }).stayed)).toBe(1);
    expect(streamsOpened).toBe(0);
  }
  const row = therapist.getByRole('row').filter({ hasText: who.name });
  await expect(row).toContainText('1 brådskande');
  await expectAccessible(therapist, hydrated);

  // Acknowledged (someone is on it), then resolved with a comment: off the list.
  await flag.getByRole('button', { name: 'Kvittera' }).click();
  await expect(flag).toContainText('Kvitterad av Tove Terapeut');
  await flag.getByText('Avsluta med kommentar').click();
  await flag.getByLabel('Hur flaggan hanterades').fill('Ringde patienten: ingen akut risk, plan finns.');
  await flag.getByRole('button', { name: 'Avsluta flaggan' }).click();
  await expect(therapist).toHaveURL(/\/mottagning\??$/);
  await expect(flags.getByRole('listitem').filter({ hasText: who.name })).toHaveCount(0);

  // The second patient answers item 9 with 0: no crisis notice, and no flag. The answer
  // reaches the open dashboard all the same (by itself with JavaScript), with its score. (The
  // flag's forms loaded the page again: it is marked anew once it listens.)
  if (hydrated) {
    await open(therapist, '/mottagning', hydrated);
    await expect(therapist.locator('[data-live-status]')).toHaveText(
      /^(Uppdateras direkt när något händer\.|Översikten uppdaterades [0-9:]+\.)$/,
    );
    await therapist.evaluate(() => {
      (window as unknown as { stayed: number }).stayed = 2;
    });
    streamsOpened = 0;
  }
  const other = await signedIn(browser, hydrated, 'patient', calm.login);
  await toTreatment(other, hydrated);
  await answerPhq9(other, other.url(), '0');
  await expect(other.getByRole('alert').filter({ hasText: 'Behöver du hjälp nu?' })).toHaveCount(0);
  if (!hydrated) await therapist.getByRole('link', { name: 'Uppdatera' }).click();
  const calmRow = therapist.getByRole('row').filter({ hasText: calm.name });
  await expect(calmRow).toContainText('PHQ-9 0 (minimala besvär)');
  await expect(calmRow.locator('td.flags-cell')).toHaveText('–');
  await expect(flags.getByRole('listitem').filter({ hasText: calm.name })).toHaveCount(0);
  if (hydrated) {
    expect(await therapist.evaluate(() => (window as unknown as { stayed?: number }).stayed)).toBe(2);
    expect(streamsOpened).toBe(0);
  }
  await other.context().close();

  // The first module, now open: a page, then the homework sent.
  await patient.goto(treatment);
  await patient.getByRole('link', { name: 'Välkommen', exact: true }).click();
  await expect(patient.getByText('Alla oroar sig ibland.')).toBeVisible();
  await patient.goto(treatment);
  await patient.getByRole('link', { name: 'Hemuppgift: oroslogg', exact: true }).click();
  const task = patient.getByRole('region', { name: 'Hemuppgift' });
  await task.getByLabel('Var var du och vad gjorde du?').fill('På bussen till jobbet.');
  await task.getByLabel('Vad oroade du dig för?').fill('Mötet i morgon.');
  await task.getByLabel('Hur stark var oron? (0–10)').fill('6');
  await task.getByRole('button', { name: 'Skicka hemuppgiften' }).click();
  await expect(task.getByText(/^Inskickad/)).toBeVisible();

  // A message to the care team.
  await patient.goto(treatment);
  await patient.getByRole('link', { name: 'Meddelanden' }).click();
  await patient.getByLabel('Nytt meddelande').fill('Jag har svårt att sova före mötet.');
  await patient.getByRole('button', { name: 'Skicka meddelandet' }).click();
  await expect(patient.locator('li.message').filter({ hasText: 'svårt att sova' })).toBeVisible();

  // The therapist: the patient now has their name from the e-ID; the homework and the
  // message are there; she answers and gives feedback.
  await open(therapist, '/mottagning', hydrated);
  await therapist.getByRole('link', { name: who.name }).click();
  await expect(therapist.locator('li.message').filter({ hasText: 'svårt att sova' })).toBeVisible();
  await therapist.getByLabel('Svara patienten').fill('Vi pratar om det på torsdag.');
  await therapist.getByRole('button', { name: 'Skicka meddelandet' }).click();
  await expect(therapist.locator('li.message').filter({ hasText: 'på torsdag' })).toBeVisible();
  const modules = therapist.getByRole('region', { name: 'Moduler och hemuppgifter' });
  await expect(modules.getByText('Mötet i morgon.')).toBeVisible();
  await modules.getByLabel('Återkoppling på modulen').first().fill('Bra fångat. Prova orostiden.');
  await modules.getByRole('button', { name: 'Skicka återkopplingen' }).first().click();
  await expect(modules.getByText('Bra fångat. Prova orostiden.')).toBeVisible();
  await expectAccessible(therapist, hydrated);

  // A flag raised by hand on the record, for the care team: on the dashboard with its note.
  const raising = therapist.getByRole('region', { name: 'Flagga behandlingen' });
  await raising.getByLabel('Orsak').selectOption({ label: 'Patienten behöver kontaktas' });
  await raising.getByLabel('Hur bråttom').selectOption({ label: 'Varning' });
  await raising.getByLabel('Vad det gäller').fill('Ring före torsdag om sömnen.');
  await Promise.all([
    therapist.waitForResponse((r) => r.url().includes('/api/raise_flag')),
    raising.getByRole('button', { name: 'Flagga', exact: true }).click(),
  ]);
  await open(therapist, '/mottagning', hydrated);
  const raised = flags.getByRole('listitem').filter({ hasText: who.name });
  await expect(raised).toContainText('Patienten behöver kontaktas');
  await expect(raised).toContainText('Ring före torsdag om sömnen.');
  await expect(raised).toContainText('av Tove Terapeut');

  // The patient reads the feedback; the next module is open; the answer is in the messages.
  await toTreatment(patient, hydrated);
  const first = patient
    .getByRole('listitem')
    .filter({ has: patient.getByRole('heading', { name: 'Vad är oro?' }) });
  await expect(first.getByText('Bra fångat. Prova orostiden.')).toBeVisible();
  const second = patient
    .getByRole('listitem')
    .filter({ has: patient.getByRole('heading', { name: 'Oroliga tankar' }) });
  await expect(second.getByText('Öppen')).toBeVisible();
  await patient.getByRole('link', { name: 'Meddelanden' }).click();
  await expect(patient.locator('li.message').filter({ hasText: 'på torsdag' })).toContainText('Tove Terapeut');

  // The results: the form's total on the chart and in the table (1: item 9 alone).
  await patient.goto(treatment);
  await patient.getByRole('link', { name: 'Mina resultat' }).click();
  await expect(patient.getByRole('img', { name: 'PHQ-9' })).toBeVisible();
  const latest = patient.getByRole('table').getByRole('row').nth(1);
  await expect(latest.getByRole('cell').nth(1)).toHaveText('1');
  await expect(latest).toContainText('minimala besvär');
  await expectAccessible(patient, hydrated);

  // A module still locked is refused by its address.
  const locked = await patient.goto(`${treatment}/oro-3/oro-orostid`);
  expect(locked?.status()).toBe(403);
  await expect(patient.getByRole('alert')).toHaveText('Du har inte behörighet till det här.');

  await therapist.context().close();
  await patient.context().close();

  // The region's auditor finds the therapist's reads and changes of the patient's data in
  // the access log: the dashboard's list, the record's read, the flag's handling and the rest.
  const auditor = await signedIn(browser, hydrated, 'staff', 'gun', '/granskning');
  const log = auditor.getByRole('table', { name: 'Åtkomst till patientuppgifter, senaste först' });
  await auditor.getByRole('link', { name: new RegExp(`^${who.name} `) }).first().click();
  await expect(auditor).toHaveURL(/\/granskning\?patient=\d+$/);
  // The search for this patient alone: no row about anyone else, then their rows by Tove.
  await expect(log.locator('tbody tr').filter({ hasNotText: who.name })).toHaveCount(0);
  const byTove = log.getByRole('row').filter({ hasText: who.name }).filter({ hasText: 'Tove Terapeut' });
  for (const action of ['list · allowed', 'read · allowed', 'write · allowed']) {
    await expect(byTove.filter({ hasText: action }).first()).toBeVisible();
  }
  await expectAccessible(auditor, hydrated);
  await auditor.context().close();
});
