import { test, expect, expectAccessible, open, switchRole, tabTo } from './fixtures';

test('a patient three weeks in reads a module, sends the weekly rating, and cannot open a locked module', async ({
  page,
  hydrated,
}) => {
  await open(page, '/', hydrated);
  await page.getByRole('button', { name: 'Prova som patient' }).click();
  await expect(page).toHaveURL(/\/mina-sidor$/);
  await page.getByRole('link', { name: 'Hantera oro' }).click();

  // The treatment, three weeks in (the demo's history): the first module done with the
  // therapist's feedback, the second open, the rest locked with no way into them.
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Hantera oro');
  const first = page.getByRole('listitem').filter({ has: page.getByRole('heading', { name: 'Vad är oro?' }) });
  await expect(first.getByText('Klar')).toBeVisible();
  await expect(first.getByRole('heading', { name: 'Återkoppling från din behandlare' })).toBeVisible();
  const second = page.getByRole('listitem').filter({ has: page.getByRole('heading', { name: 'Oroliga tankar' }) });
  await expect(second.getByText('Öppen')).toBeVisible();
  const third = page.getByRole('listitem').filter({ has: page.getByRole('heading', { name: 'Orostid' }) });
  await expect(third.getByText('Låst – öppnas när du kommit så långt')).toBeVisible();
  await expect(third.getByRole('link')).toHaveCount(0);
  const treatment = page.url();
  await expectAccessible(page, hydrated);

  // Reading: the second module's first page, then on to this week's rating.
  await second.getByRole('link', { name: 'Hur oro fungerar' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Oroliga tankar');
  await expect(page.getByRole('heading', { level: 2, name: 'Hur oro fungerar' })).toBeVisible();
  await expectAccessible(page, hydrated);

  // The weekly rating is a scheduled form, listed on the treatment until it is answered.
  await page.goto(treatment);
  const due = page.getByRole('region', { name: 'Formulär att besvara' });
  await expect(due.getByRole('listitem')).toHaveCount(1);
  await due.getByRole('link', { name: 'GAD-7' }).click();
  await expect(page).toHaveURL(/\/mina-sidor\/formular\/\d+\/oro-gad7-vecka$/);
  const form = page.getByRole('region', { name: 'GAD-7' });
  await expect(form.getByRole('group')).toHaveCount(7);

  // Half answered and saved as a draft: the answers are there after a reload.
  for (const n of [1, 2, 3]) {
    await form.getByRole('group', { name: `Fråga ${n}` }).getByLabel('1', { exact: true }).check();
  }
  await form.getByRole('button', { name: 'Spara utkast' }).click();
  await expect(form.getByText(/Utkast sparat/)).toBeVisible();
  await page.reload();
  await expect(
    form.getByRole('group', { name: 'Fråga 2' }).getByLabel('1', { exact: true }),
  ).toBeChecked();

  // Sent with an answer missing: refused, and said why; nothing is lost.
  await form.getByRole('button', { name: 'Skicka' }).click();
  await expect(page.getByRole('alert')).toHaveText(
    'Svara på alla frågor innan du skickar. Dina svar är sparade som utkast.',
  );
  await expect(
    form.getByRole('group', { name: 'Fråga 3' }).getByLabel('1', { exact: true }),
  ).toBeChecked();
  for (const n of [4, 5, 6, 7]) {
    await form.getByRole('group', { name: `Fråga ${n}` }).getByLabel('2', { exact: true }).check();
  }
  await form.getByRole('button', { name: 'Skicka' }).click();

  // Sent and scored by the server: 3 × 1 + 4 × 2 = 11, moderate anxiety.
  await expect(form.getByText(/^Skickat/)).toBeVisible();
  await expect(form.getByText('Summa: 11 (måttliga besvär)')).toBeVisible();
  await expect(form.getByRole('button')).toHaveCount(0);
  await expectAccessible(page, hydrated);

  // Answered: this week's form is no longer asked for.
  await page.goto(treatment);
  await expect(page.getByRole('region', { name: 'Formulär att besvara' })).toHaveCount(0);

  // My results: the chart, with the same figures in a table, newest first: today's 11 over
  // three weeks of history (12, worse at 16, better at 8).
  await page.getByRole('link', { name: 'Mina resultat' }).click();
  await expect(page.getByRole('img', { name: 'GAD-7' })).toBeVisible();
  const rows = page.getByRole('table').getByRole('row');
  await expect(rows).toHaveCount(5);
  await expect(rows.nth(1)).toContainText('11');
  await expect(rows.nth(1)).toContainText('måttliga besvär');
  await expect(rows.nth(3)).toContainText('16');
  await expect(rows.nth(3)).toContainText('svåra besvär');
  await expect(rows.nth(4)).toContainText('12');
  await expectAccessible(page, hydrated);

  // A locked module's page, by its address: refused, its text never sent.
  const locked = await page.goto(`${treatment}/oro-3/oro-orostid`);
  expect(locked?.status()).toBe(403);
  await expect(page.getByRole('alert')).toHaveText('Du har inte behörighet till det här.');
});

test('a patient writes to the care team, the therapist answers, and the patient reads it', async ({
  page,
  hydrated,
}) => {
  const asRole = (role: string) => switchRole(page, role);
  await open(page, '/', hydrated);
  await page.getByRole('button', { name: 'Prova som patient' }).click();
  await page.getByRole('link', { name: 'Hantera oro' }).click();
  await page.getByRole('link', { name: 'Meddelanden' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Meddelanden');
  await expect(page.getByText(/Skriv inte här om det är akut – ring 112/)).toBeVisible();

  // Sent: shown once committed, markup as text, the address as a link, not yet read.
  await page.getByLabel('Nytt meddelande').fill('Jag sover dåligt <b>igen</b>. Jag läste https://www.1177.se/somn');
  await page.getByRole('button', { name: 'Skicka meddelandet' }).click();
  const mine = page.locator('li.message').filter({ hasText: 'Jag sover dåligt' });
  await expect(mine).toContainText('<b>igen</b>');
  await expect(mine.getByRole('link', { name: 'https://www.1177.se/somn' })).toBeVisible();
  await expect(mine).toContainText('inte läst ännu');
  await expectAccessible(page, hydrated);

  // The therapist reads it on the record and answers.
  await asRole('therapist');
  await page.getByRole('link', { name: 'Petra Patient' }).click();
  await expect(page.locator('li.message').filter({ hasText: 'Jag sover dåligt' })).toBeVisible();
  await page.getByLabel('Svara patienten').fill('Tack för att du skriver. Vi tar det på torsdag.');
  await page.getByRole('button', { name: 'Skicka meddelandet' }).click();
  await expect(page.locator('li.message').filter({ hasText: 'Vi tar det på torsdag.' })).toBeVisible();
  await expectAccessible(page, hydrated);

  // Back as the patient: one unread answer, and the care team has read the question.
  await asRole('patient');
  await page.getByRole('link', { name: 'Hantera oro' }).click();
  await expect(page.getByText('(1 olästa)')).toBeVisible();
  await page.getByRole('link', { name: 'Meddelanden' }).click();
  await expect(page.locator('li.message').filter({ hasText: 'Vi tar det på torsdag.' })).toContainText('Tove Terapeut');
  await expect(mine).toContainText('läst av vården');
});

test('a patient sends the homework, the therapist gives feedback, and the next module opens', async ({
  page,
  hydrated,
}) => {
  const asRole = (role: string) => switchRole(page, role);
  await open(page, '/', hydrated);
  await page.getByRole('button', { name: 'Prova som patient' }).click();
  await page.getByRole('link', { name: 'Hantera oro' }).click();
  await expect(page).toHaveURL(/\/mina-sidor\/behandling\/\d+$/);
  const treatment = page.url();
  await page.getByRole('link', { name: 'Hemuppgift: sortera oron' }).click();

  // A draft is kept on the server: it is there after a reload.
  const task = page.getByRole('region', { name: 'Hemuppgift' });
  await task.getByLabel('Tanken').fill('Att jag sagt något fel.');
  await task.getByRole('button', { name: 'Spara utkast' }).click();
  await expect(task.getByText(/Utkast sparat/)).toBeVisible();
  await page.reload();
  await expect(task.getByLabel('Tanken')).toHaveValue('Att jag sagt något fel.');
  await task.getByLabel('Vilken sorts problem är det?').selectOption('Något jag kan göra något åt nu');
  await task.getByLabel('Om det går att göra något: vad är första steget?').fill('Fråga kollegan i morgon.');
  await task.getByRole('button', { name: 'Skicka hemuppgiften' }).click();

  // Sent and locked: shown as sent, with no way to change it.
  await expect(task.getByText(/^Inskickad/)).toBeVisible();
  await expect(task.getByText('Att jag sagt något fel.')).toBeVisible();
  await expect(task.getByRole('button')).toHaveCount(0);
  await expectAccessible(page, hydrated);

  // The therapist reads it on the record and gives feedback on the module.
  await asRole('therapist');
  await page.getByRole('link', { name: 'Petra Patient' }).click();
  const modules = page.getByRole('region', { name: 'Moduler och hemuppgifter' });
  await expect(modules.getByText('Att jag sagt något fel.')).toBeVisible();
  await modules.getByLabel('Återkoppling på modulen').fill('Bra att du skrev ner oron direkt. Fortsätt så.');
  await modules.getByRole('button', { name: 'Skicka återkopplingen' }).click();
  const done = modules.getByRole('listitem').filter({ has: page.getByRole('heading', { name: /Oroliga tankar/ }) });
  await expect(done.getByText('Bra att du skrev ner oron direkt. Fortsätt så.')).toBeVisible();
  // Given once: no second form for the module; the module it opened takes feedback next.
  await expect(done.getByLabel('Återkoppling på modulen')).toHaveCount(0);
  const opened = modules.getByRole('listitem').filter({ has: page.getByRole('heading', { name: /Orostid/ }) });
  await expect(opened.getByText('Öppen')).toBeVisible();
  await expectAccessible(page, hydrated);

  // The patient sees the feedback, and the next module is open.
  await asRole('patient');
  await page.goto(treatment);
  const first = page.getByRole('listitem').filter({ has: page.getByRole('heading', { name: 'Oroliga tankar' }) });
  await expect(first.getByRole('heading', { name: 'Återkoppling från din behandlare' })).toBeVisible();
  await expect(first.getByText('Bra att du skrev ner oron direkt. Fortsätt så.')).toBeVisible();
  const second = page.getByRole('listitem').filter({ has: page.getByRole('heading', { name: 'Orostid' }) });
  await expect(second.getByText('Öppen')).toBeVisible();
  await expectAccessible(page, hydrated);
  await second.getByRole('link').first().click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Orostid');

  // My data: the homework and the feedback are there to read and to download.
  await page.goto('/mina-sidor');
  await page.getByRole('link', { name: 'Mina uppgifter' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Mina uppgifter');
  await expect(page.getByText(/artikel 15/)).toBeVisible();
  await expect(page.getByText('Bra att du skrev ner oron direkt. Fortsätt så.')).toBeVisible();
  await page.getByText(/^Hemuppgift: sortera oron/).click();
  await expect(page.getByText('Att jag sagt något fel.')).toBeVisible();
  await expectAccessible(page, hydrated);
  const download = await page.request.get('/mina-sidor/mina-uppgifter.json');
  expect(download.status()).toBe(200);
  expect(await download.text()).toContain('Att jag sagt något fel.');

  // Notifications: never in the demo, and the page says so.
  await page.goto('/mina-sidor');
  await page.getByRole('link', { name: 'Aviseringar' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Aviseringar');
  await expect(page.getByText(/aldrig vad/)).toBeVisible();
  await expect(page.getByText(/demoläget/)).toBeVisible();
  await expect(page.getByRole('button', { name: 'Skicka kod' })).toHaveCount(0);
  await expectAccessible(page, hydrated);
});

test('with JavaScript, what the patient writes is kept as a draft as they write it', async ({
  page,
  hydrated,
}) => {
  test.skip(!hydrated, 'without JavaScript the "Spara utkast" button does it (tested above)');
  await open(page, '/', hydrated);
  await page.getByRole('button', { name: 'Prova som patient' }).click();
  await page.getByRole('link', { name: 'Hantera oro' }).click();
  await expect(page).toHaveURL(/\/mina-sidor\/behandling\/\d+$/);
  const treatment = page.url();

  // A worksheet: typed, saved within two seconds without a button, there after a reload.
  await page.getByRole('link', { name: 'Hemuppgift: sortera oron' }).click();
  const task = page.getByRole('region', { name: 'Hemuppgift' });
  await expect(task.locator('[data-autosave="ready"]')).toHaveCount(1);
  await task.getByLabel('Tanken').fill('Tänk om jag blir sjuk.');
  await expect(task.getByRole('status')).toHaveText(/^Utkastet sparat \d\d:\d\d$/);
  await page.reload();
  await expect(task.getByLabel('Tanken')).toHaveValue('Tänk om jag blir sjuk.');
  await expectAccessible(page, hydrated);

  // The weekly rating: an answer chosen is kept the same way.
  await page.goto(treatment);
  await page.getByRole('region', { name: 'Formulär att besvara' }).getByRole('link', { name: 'GAD-7' }).click();
  const form = page.getByRole('region', { name: 'GAD-7' });
  await expect(form.locator('[data-autosave="ready"]')).toHaveCount(1);
  await form.getByRole('group', { name: 'Fråga 1' }).getByLabel('3', { exact: true }).check();
  await expect(form.getByRole('status')).toHaveText(/^Utkastet sparat \d\d:\d\d$/);
  await page.reload();
  await expect(form.getByRole('group', { name: 'Fråga 1' }).getByLabel('3', { exact: true })).toBeChecked();
});

test('with JavaScript, a press of Send while a draft is on its way waits for it', async ({ page, hydrated }) => {
  test.skip(!hydrated, 'without JavaScript no draft is saved on its own');
  // The drafts' saves are held back two seconds on their way; what reaches the server, in
  // order, is noted.
  const events: string[] = [];
  await page.route('**/api/**', async (route) => {
    const request = route.request();
    const body = request.postData() ?? '';
    if ((request.headers()['accept'] ?? '').includes('application/json') && body.includes('intent=save')) {
      events.push('save sent');
      await new Promise((resolve) => setTimeout(resolve, 2000));
      const response = await route.fetch();
      events.push('save answered');
      await route.fulfill({ response });
      return;
    }
    if (body.includes('intent=submit')) events.push('send');
    await route.continue();
  });
  await open(page, '/', hydrated);
  await page.getByRole('button', { name: 'Prova som patient' }).click();
  await page.getByRole('link', { name: 'Hantera oro' }).click();
  await page.getByRole('link', { name: 'Hemuppgift: sortera oron' }).click();
  const task = page.getByRole('region', { name: 'Hemuppgift' });
  await expect(task.locator('[data-autosave="ready"]')).toHaveCount(1);
  await task.getByLabel('Tanken').fill('Första tanken.');
  await expect(task.getByRole('status')).toHaveText('Sparar utkastet …');

  // While that draft is on its way: the rest written, and Send pressed.
  await task.getByLabel('Tanken').fill('Den andra tanken.');
  await task.getByLabel('Vilken sorts problem är det?').selectOption('Något jag kan göra något åt nu');
  await task.getByLabel('Om det går att göra något: vad är första steget?').fill('Skriva en lista.');
  await task.getByRole('button', { name: 'Skicka hemuppgiften' }).click();

  // Sent after the draft arrived, with what was written last.
  await expect(task.getByText(/^Inskickad/)).toBeVisible();
  await expect(task.getByText('Den andra tanken.')).toBeVisible();
  expect(events.slice(0, 3)).toEqual(['save sent', 'save answered', 'send']);
  expect(events.slice(3)).not.toContain('save sent');
});

test("with JavaScript, the patient's pages follow each other without reloading, and keep focus, scroll and history as a page load would", async ({
  page,
  hydrated,
}) => {
  test.skip(!hydrated, 'without JavaScript every link loads a whole page (every other test)');
  await page.setViewportSize({ width: 320, height: 640 });
  await open(page, '/', hydrated);
  await page.getByRole('button', { name: 'Prova som patient' }).click();
  await expect(page).toHaveURL(/\/mina-sidor$/);
  // The script has started (a click before that is an ordinary page load).
  const announcer = page.locator('#lotsen-nav-announcer');
  await expect(announcer).toBeAttached();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  // A mark on this document: a page load would clear it.
  await page.evaluate(() => ((window as any).lotsenSameDocument = true));
  const sameDocument = () => page.evaluate(() => (window as any).lotsenSameDocument === true);

  await page.getByRole('link', { name: 'Hantera oro' }).click();
  await expect(page).toHaveURL(/\/mina-sidor\/behandling\/\d+$/);
  const heading = page.getByRole('heading', { level: 1 });
  await expect(heading).toHaveText('Hantera oro');
  expect(await sameDocument()).toBe(true);
  // The keyboard goes on from the new page's heading, and a screen reader hears its title.
  await expect(heading).toBeFocused();
  await expect(page).toHaveTitle(/Hantera oro/);
  await expect(announcer).toHaveText(await page.title());
  await expect(announcer).toHaveAttribute('aria-live', 'polite');
  const treatment = page.url();

  // Down the page to a link: the next page opens at its top.
  const reading = page.getByRole('link', { name: 'Hur oro fungerar' });
  await reading.evaluate((link) => link.scrollIntoView({ block: 'end' }));
  await expect(reading).toBeInViewport();
  const down = await page.evaluate(() => window.scrollY);
  expect(down).toBeGreaterThan(0);
  await reading.click();
  await expect(heading).toHaveText('Oroliga tankar');
  await expect(heading).toBeFocused();
  expect(await page.evaluate(() => window.scrollY)).toBe(0);
  expect(await sameDocument()).toBe(true);

  // Back: the treatment again, where the person was on it; forward: the page again.
  await page.goBack();
  await expect(page).toHaveURL(treatment);
  await expect(heading).toHaveText('Hantera oro');
  await expect.poll(() => page.evaluate(() => window.scrollY)).toBe(down);
  await page.goForward();
  await expect(heading).toHaveText('Oroliga tankar');
  await page.getByRole('link', { name: /Alla moduler/ }).click();
  await expect(heading).toHaveText('Hantera oro');

  // A form on a page reached this way saves its draft as it is answered.
  await page.getByRole('region', { name: 'Formulär att besvara' }).getByRole('link', { name: 'GAD-7' }).click();
  const form = page.getByRole('region', { name: 'GAD-7' });
  await expect(form.locator('[data-autosave="ready"]')).toHaveCount(1);
  expect(await sameDocument()).toBe(true);
  await form.getByRole('group', { name: 'Fråga 1' }).getByLabel('2', { exact: true }).check();
  await expect(form.getByRole('status')).toHaveText(/^Utkastet sparat \d\d:\d\d$/);

  await page.getByRole('link', { name: /Alla moduler/ }).click();
  await expect(heading).toHaveText('Hantera oro');
  await page.getByRole('link', { name: 'Meddelanden' }).click();
  await expect(page).toHaveURL(/\/meddelanden$/);
  expect(await sameDocument()).toBe(true);
  expect(errors, 'errors in the page').toEqual([]);

  // A form on a page reached this way works as on a page loaded whole: a message sent.
  await page.getByLabel('Nytt meddelande').fill('Skickat efter byte av sida.');
  await page.getByRole('button', { name: 'Skicka meddelandet' }).click();
  await expect(page.locator('li.message').filter({ hasText: 'Skickat efter byte av sida.' })).toBeVisible();

  // The header came with the page: the language switch brings the person back to this page.
  await page.getByRole('link', { name: /Alla moduler/ }).click();
  await expect(page).toHaveURL(treatment);
  await page.getByRole('button', { name: 'In English' }).click();
  await expect(page).toHaveURL(treatment);
  await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
  await expect(page.locator('html')).toHaveAttribute('lang', 'en');
  await expectAccessible(page, hydrated);
});

test('a therapist enrols a new patient, and a group with a bad line enrols nobody', async ({
  page,
  hydrated,
}) => {
  await open(page, '/', hydrated);
  await page.getByRole('button', { name: 'Prova som behandlare' }).click();
  await expect(page).toHaveURL(/\/mottagning$/);
  const form = page.getByRole('region', { name: 'Skriv in patienter' });
  await expectAccessible(page, hydrated);

  // One new person, with a name and contact details for notifications.
  await form.getByLabel('Personnummer, ett per rad').fill('19850505-1238 Anna Andersson');
  await form.getByLabel('Program').selectOption({ label: 'Hantera oro 1.0' });
  await form.getByLabel('E-post', { exact: true }).fill('anna@example.se');
  await form.getByLabel('Patienten vill få aviseringar via e-post').check();
  await form.getByRole('button', { name: 'Skriv in' }).click();
  await expect(page.getByRole('link', { name: 'Anna Andersson' })).toBeVisible();
  // The number went in the form's body, never in an address.
  expect(page.url()).not.toContain('198505051238');

  // A group with one bad line: named, and nobody enrolled.
  await form.getByLabel('Personnummer, ett per rad').fill('197001011118\n19700101-1119\n198505051246');
  await form.getByLabel('Program').selectOption({ label: 'Hantera oro 1.0' });
  await form.getByRole('button', { name: 'Skriv in' }).click();
  await expect(page.getByRole('alert')).toHaveText('Rad 2: Personnumret är inte giltigt. Ingen skrevs in.');
  await expect(page.getByRole('link', { name: '197001011118' })).toHaveCount(0);
  expect(page.url()).not.toContain('197001011118');

  // The same list without the bad line: both enrolled, listed by number until they sign in.
  await form.getByLabel('Personnummer, ett per rad').fill('197001011118\n198505051246');
  await form.getByLabel('Program').selectOption({ label: 'Hantera oro 1.0' });
  await form.getByRole('button', { name: 'Skriv in' }).click();
  await expect(page.getByRole('link', { name: '197001011118' })).toBeVisible();
  await expect(page.getByRole('link', { name: '198505051246' })).toBeVisible();
  await expectAccessible(page, hydrated);
});

test('a patient does the core of a week with the keyboard alone', async ({ page, hydrated }) => {
  await open(page, '/', hydrated);
  await page.getByRole('button', { name: 'Prova som patient' }).click();
  await expect(page).toHaveURL(/\/mina-sidor$/);

  // From here on, only the keyboard: to the treatment, to this week's form.
  await tabTo(page, page.getByRole('link', { name: 'Hantera oro' }));
  await page.keyboard.press('Enter');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Hantera oro');
  const due = page.getByRole('region', { name: 'Formulär att besvara' });
  await tabTo(page, due.getByRole('link', { name: 'GAD-7' }));
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(/\/mina-sidor\/formular\/\d+\/oro-gad7-vecka$/);

  // Each question: into its group, then an answer chosen with the arrow key ("1").
  const form = page.getByRole('region', { name: 'GAD-7' });
  for (let n = 1; n <= 7; n++) {
    const group = form.getByRole('group', { name: `Fråga ${n}` });
    await tabTo(page, group);
    await page.keyboard.press('ArrowRight');
    await expect(group.getByLabel('1', { exact: true })).toBeChecked();
  }
  await tabTo(page, form.getByRole('button', { name: 'Skicka' }));
  await page.keyboard.press('Enter');
  await expect(form.getByText('Summa: 7 (lindriga besvär)')).toBeVisible();

  // Back to the treatment, to the messages, and a message sent.
  await tabTo(page, page.getByRole('link', { name: /Alla moduler/ }));
  await page.keyboard.press('Enter');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Hantera oro');
  await tabTo(page, page.getByRole('link', { name: 'Meddelanden' }));
  await page.keyboard.press('Enter');
  await tabTo(page, page.getByLabel('Nytt meddelande'));
  await page.keyboard.type('Skickat med tangentbordet.');
  await tabTo(page, page.getByRole('button', { name: 'Skicka meddelandet' }));
  await page.keyboard.press('Enter');
  await expect(page.locator('li.message').filter({ hasText: 'Skickat med tangentbordet.' })).toBeVisible();
  await expectAccessible(page, hydrated);
});
