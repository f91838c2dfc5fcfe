import { test, expect, expectAccessible, open } from './fixtures';

test('a visitor tries Lotsen as therapist, then as the patient, and signs out', async ({
  page,
  hydrated,
}) => {
  await open(page, '/', hydrated);
  await expect(page.getByRole('note')).toContainText('Allt här är påhittat');
  await page.getByRole('button', { name: 'Prova som behandlare' }).click();

  // The therapist's unit: its own two patients, never the other unit's.
  await expect(page).toHaveURL(/\/mottagning$/);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Mottagningen');
  const patients = page.getByRole('table', { name: 'Patienter med pågående program på enheten' });
  await expect(patients.getByRole('link')).toHaveText(['Olle Exempel', 'Petra Patient', 'Karin Prov']);
  await expect(page.getByText('Maja Mönster')).toHaveCount(0);
  // A caseload under way: Olle has done nothing for two weeks (a flag), Petra's question of
  // yesterday is unread, and her weekly GAD-7 with its change is on her row; Karin's first
  // homework waits for feedback.
  const flags = page.locator('.flag-list');
  await expect(flags.locator('li')).toHaveCount(1);
  await expect(flags).toContainText('Olle Exempel');
  await expect(flags).toContainText('Inaktiv');
  const petra = patients.getByRole('row', { name: /Petra Patient/ });
  await expect(petra.getByRole('cell').nth(5)).toHaveText('1');
  const karin = patients.getByRole('row', { name: /Karin Prov/ });
  await expect(karin.getByRole('cell').nth(6)).toHaveText('1');
  await expect(page.locator('.caseloads')).toContainText('Patienter per behandlare');
  await expect(petra).toContainText('GAD-7 8');
  await expect(petra).toContainText('-4 sedan start (betydande förbättring)');
  await expectAccessible(page, hydrated);

  await patients.getByRole('link', { name: 'Petra Patient' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Petra Patient');
  await expect(page.getByText('Följ upp sömnen vid nästa kontakt.')).toBeVisible();
  await expectAccessible(page, hydrated);

  // Same sandbox, another role: the patient sees her program, not the therapist's note, and
  // who read her data.
  await page.getByLabel('Du provar som').selectOption('patient');
  await page.getByRole('button', { name: 'Byt roll' }).click();
  await expect(page).toHaveURL(/\/mina-sidor$/);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Mina sidor');
  await expect(page.getByRole('heading', { name: 'Hantera oro' })).toBeVisible();
  await expect(page.getByText('Följ upp sömnen')).toHaveCount(0);
  const log = page.locator('table.log');
  await expect(log).toContainText('Psykiatrimottagning Demo');
  await expect(log).toContainText('Tove Terapeut');
  await expectAccessible(page, hydrated);

  // Signing out ends the session: the page now asks the visitor to log in.
  await page.getByRole('button', { name: 'Logga ut' }).first().click();
  await expect(page).toHaveURL(/\/$/);
  await open(page, '/mina-sidor', hydrated);
  await expect(page.getByRole('alert')).toHaveText('Du behöver logga in för att se den här sidan.');
});

test('a visitor holds the therapist and the patient of one sandbox in two tabs, and the dashboard moves as the patient writes', async ({
  browser,
  hydrated,
}) => {
  const context = await browser.newContext({ javaScriptEnabled: hydrated });
  const therapist = await context.newPage();
  await open(therapist, '/', hydrated);
  await therapist.getByRole('button', { name: 'Prova som behandlare' }).click();
  await expect(therapist).toHaveURL(/\/mottagning$/);
  const petra = therapist
    .getByRole('table', { name: 'Patienter med pågående program på enheten' })
    .getByRole('row', { name: /Petra Patient/ });
  await expect(petra.getByRole('cell').nth(5)).toHaveText('1');
  if (hydrated) {
    await expect(therapist.locator('[data-live-status]')).toHaveText('Uppdateras direkt när något händer.');
    await therapist.evaluate(() => {
      (window as unknown as { stayed: number }).stayed = 1;
    });
  }

  // A second tab of the same browser becomes the patient of the same sandbox.
  const patient = await context.newPage();
  await open(patient, '/', hydrated);
  await patient.getByLabel('Du provar som').selectOption('patient');
  await patient.getByRole('button', { name: 'Byt roll' }).click();
  await expect(patient).toHaveURL(/\/mina-sidor$/);
  await expect(patient.getByRole('heading', { level: 1 })).toHaveText('Mina sidor');
  await patient.getByRole('link', { name: 'Hantera oro' }).click();
  await patient.getByRole('link', { name: 'Meddelanden' }).click();
  await patient.getByLabel('Nytt meddelande').fill('Får jag ringa er i morgon?');
  await patient.getByRole('button', { name: 'Skicka meddelandet' }).click();
  await expect(patient.locator('li.message').filter({ hasText: 'Får jag ringa er i morgon?' })).toBeVisible();

  // The therapist's tab is still the therapist: the unread count moves by itself with
  // JavaScript, after the refresh link without.
  if (!hydrated) await therapist.getByRole('link', { name: 'Uppdatera' }).click();
  await expect(petra.getByRole('cell').nth(5)).toHaveText('2');
  if (hydrated) {
    expect(await therapist.evaluate(() => (window as unknown as { stayed?: number }).stayed)).toBe(1);
  }
  await therapist.getByRole('link', { name: 'Petra Patient' }).click();
  await expect(therapist.getByRole('heading', { level: 1 })).toHaveText('Petra Patient');
  await expect(therapist.locator('li.message').filter({ hasText: 'Får jag ringa er i morgon?' })).toBeVisible();

  // And the patient's tab is still the patient.
  await patient.reload();
  await expect(patient.locator('li.message').filter({ hasText: 'Får jag ringa er i morgon?' })).toContainText('läst av vården');
  await context.close();
});

test('two visitors get separate sandboxes and never see each other', async ({
  browser,
  hydrated,
}) => {
  const visitor = async () => {
    const context = await browser.newContext({ javaScriptEnabled: hydrated });
    const page = await context.newPage();
    await open(page, '/', hydrated);
    await page.getByRole('button', { name: 'Prova som behandlare' }).click();
    await expect(page).toHaveURL(/\/mottagning$/);
    return { context, page };
  };
  const first = await visitor();
  const second = await visitor();
  await first.page.getByRole('link', { name: 'Petra Patient' }).click();
  await expect(first.page.getByRole('heading', { level: 1 })).toHaveText('Petra Patient');
  const record = first.page.url();

  // The same address in the other sandbox: no such patient, as far as that visitor can tell.
  const response = await second.page.goto(record);
  expect(response?.status()).toBe(404);
  await expect(second.page.getByRole('alert')).toHaveText(
    'Det du söker finns inte, eller så har du inte tillgång till det.',
  );
  await first.context.close();
  await second.context.close();
});

test('the therapist reads a summary for the record and ends a treatment with a reason', async ({
  page,
  hydrated,
}) => {
  await open(page, '/', hydrated);
  await page.getByRole('button', { name: 'Prova som behandlare' }).click();
  await expect(page).toHaveURL(/\/mottagning$/);
  const patients = page.getByRole('table', { name: 'Patienter med pågående program på enheten' });

  // Petra's summary: fixed content, the weekly GAD-7 from start to now with bands, and the
  // worsening flag with how it was handled; the therapist's internal note is not in it.
  await patients.getByRole('link', { name: 'Petra Patient' }).click();
  await page.getByRole('link', { name: 'Sammanfattning för journalen' }).first().click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Sammanfattning för journalen');
  const text = page.getByLabel('Markera allt och kopiera till journalsystemet');
  await expect(text).toHaveValue(/Patient: Petra Patient, \d{12}/);
  await expect(text).toHaveValue(/Status: Pågående behandling/);
  await expect(text).toHaveValue(/GAD-7: Vid start 12 \(måttliga besvär\) [\d-]+; senaste 8 \(lindriga besvär\)/);
  await expect(text).toHaveValue(/Varning: GAD-7 minst 4 poäng sämre än förra gången\..* Avslutad .* av Tove Terapeut: /);
  await expect(text).not.toHaveValue(/Följ upp sömnen/);
  await expectAccessible(page, hydrated);

  // Back on her record: the care team, and a dated internal note the therapist writes.
  await page.getByRole('link', { name: 'Till patienten' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Petra Patient');
  await expect(page.locator('.team-members')).toContainText('Tove Terapeut (ansvarig)');
  await page.getByLabel('Ny anteckning').fill('Stäm av sömndagboken nästa vecka.');
  await page.getByRole('button', { name: 'Spara anteckningen' }).click();
  await expect(page.locator('.notes li')).toHaveCount(1);
  await expect(page.locator('.notes')).toContainText('Stäm av sömndagboken nästa vecka.');
  await expect(page.locator('.notes')).toContainText('Tove Terapeut');

  // An extra GAD-7 for Petra now, open five days: her record lists it as open.
  await page.getByLabel('Formulär', { exact: true }).selectOption({ label: 'GAD-7' });
  await page.getByLabel('Antal dagar det är öppet').fill('5');
  await page.getByRole('button', { name: 'Be patienten besvara formuläret' }).click();
  await expect(page.locator('.extra-form')).toHaveCount(1);
  await expect(page.locator('.extra-form')).toContainText('GAD-7');
  await expect(page.locator('.extra-state')).toContainText('öppet till och med');

  // Olle has done nothing for two weeks: the therapist ends his treatment, saying why. His
  // inactivity flag is resolved with it, and he leaves the unit's list.
  await open(page, '/mottagning', hydrated);
  await patients.getByRole('link', { name: 'Olle Exempel' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Olle Exempel');
  await page.getByLabel('Skäl till avslut').selectOption({ label: 'Patienten har slutat delta och går inte att nå' });
  await page.getByRole('button', { name: 'Avsluta behandlingen' }).click();
  await expect(page.locator('.treatment-state')).toHaveText(
    'Avslutad: Patienten har slutat delta och går inte att nå',
  );
  await expect(page.getByRole('button', { name: 'Avsluta behandlingen' })).toHaveCount(0);
  await open(page, '/mottagning', hydrated);
  // Karin's homework waits for feedback; Petra's question has been read on her record.
  await expect(patients.getByRole('link')).toHaveText(['Karin Prov', 'Petra Patient']);
  await expect(page.locator('.flag-list li')).toHaveCount(0);
});
