import type { Page } from '@playwright/test';
import { test, expect, expectAccessible, open } from './fixtures';

async function switchTo(page: Page, persona: string) {
  await page.getByLabel('Du provar som').selectOption(persona);
  await page.getByRole('button', { name: 'Byt roll' }).click();
}

async function createProgram(page: Page, hydrated: boolean, title: string) {
  await open(page, '/', hydrated);
  await page.getByRole('button', { name: 'Prova som producent' }).click();
  await expect(page).toHaveURL(/\/program$/);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Program');
  await expectAccessible(page, hydrated);
  await page.getByLabel('Programmets namn').fill(title);
  await page.getByRole('button', { name: 'Skapa programmet' }).click();
  // The form posts to the server function, which sends the browser back to the list.
  await expect(page).toHaveURL(/\/program\??$/);
  await page.getByRole('link', { name: title }).click();
  await expect(page).toHaveURL(/\/program\/\d+$/);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Redigera program');
}

test('a producer builds a program, previews and answers it; a publisher publishes 1.0', async ({
  page,
  hydrated,
}) => {
  test.skip(!hydrated, 'the editor needs JavaScript (without it, see the next test)');
  await createProgram(page, hydrated, 'Sov gott');
  // The editor's code arrives on its own (a lazily loaded WASM file) and then takes over.
  await expect(page.locator('[data-editor="ready"]')).toHaveCount(1);
  const status = page.locator('.save-status');
  const outline = page.getByRole('region', { name: 'Innehåll' });
  const editor = page.getByRole('region', { name: 'Sida', exact: true });
  const preview = page.getByRole('region', { name: 'Förhandsvisning' });

  // Structure: a module, a section, two pages.
  await page.getByRole('button', { name: 'Lägg till modul' }).click();
  await outline.getByLabel('Modulens rubrik').fill('Om sömn');
  await outline.getByRole('button', { name: 'Lägg till avsnitt' }).click();
  await outline.getByLabel('Avsnittets rubrik').fill('Början');
  await outline.getByRole('button', { name: 'Lägg till sida' }).click();
  await editor.getByLabel('Sidans rubrik').fill('Välkommen');
  await editor.getByLabel('Nytt block').selectOption('text');
  await editor.getByRole('button', { name: 'Lägg till block' }).click();
  await editor.getByLabel('Text', { exact: true }).fill('Sömn är **viktigt**.');
  // The preview is the patient's own renderer: Markdown made safe, as patients will see it.
  await expect(preview.getByRole('heading', { name: 'Välkommen' })).toBeVisible();
  await expect(preview.locator('strong')).toHaveText('viktigt');

  // A questionnaire from the scale library, on a second page, answered in the preview.
  await page.getByLabel('Skattningsskala').selectOption('gad7');
  await page.getByRole('button', { name: 'Lägg till skalan' }).click();
  await outline.getByRole('button', { name: 'Lägg till sida' }).click();
  await editor.getByLabel('Sidans rubrik').fill('Veckans skattning');
  await editor.getByLabel('Nytt block').selectOption('questionnaire');
  await editor.getByRole('button', { name: 'Lägg till block' }).click();
  const form = preview.getByRole('region', { name: 'GAD-7' });
  for (let item = 1; item <= 3; item++) {
    await form.getByRole('group', { name: `Fråga ${item}` }).getByLabel('2').check();
  }
  await expect(form.getByRole('status')).toHaveText('Besvarade: 3 / 7');
  for (let item = 4; item <= 7; item++) {
    await form.getByRole('group', { name: `Fråga ${item}` }).getByLabel('2').check();
  }
  await expect(form.getByRole('status')).toContainText('Summa: 14 (måttliga besvär)');

  // Reordering: by drag and drop, and back by keyboard.
  const pages = outline.locator('.select-page');
  await expect(pages).toHaveText(['Välkommen', 'Veckans skattning']);
  await outline
    .locator('.outline-page .drag-handle')
    .nth(1)
    .dragTo(outline.locator('.outline-page').nth(0));
  await expect(pages).toHaveText(['Veckans skattning', 'Välkommen']);
  await outline.getByRole('button', { name: 'Flytta upp Välkommen' }).focus();
  await page.keyboard.press('Enter');
  await expect(pages).toHaveText(['Välkommen', 'Veckans skattning']);

  // GAD-7 also on a schedule: every week from enrolment, open three days, before the pages.
  const schedules = page.getByRole('region', { name: 'Scheman' });
  await schedules.getByRole('button', { name: 'Lägg till schema' }).click();
  await expect(schedules.getByLabel('Schema 1: Formulär')).toHaveValue('gad7');
  await schedules.getByLabel('Schema 1: Öppet antal dagar').fill('3');
  await schedules.getByLabel('Schema 1: Måste besvaras innan patienten läser vidare').check();

  // The report before publishing, as the content changes.
  const report = page.getByRole('region', { name: 'Kontroll före publicering' });
  await expect(report).toContainText('Inga problem hittades.');
  // A window of no days is refused, and said why.
  await schedules.getByLabel('Schema 1: Öppet antal dagar').fill('0');
  await expect(report).toContainText('Antalet dagar är utanför det tillåtna');
  await schedules.getByLabel('Schema 1: Öppet antal dagar').fill('3');
  await expect(report).toContainText('Inga problem hittades.');
  await expectAccessible(page, hydrated);

  // Input no draft may hold is refused with the reason, and nothing is saved.
  await page.getByLabel('Programmets namn').fill('x'.repeat(201));
  await expect(report).toContainText('För lång text. Högst antal tecken: 200');
  await page.getByRole('button', { name: 'Spara' }).click();
  await expect(status).toContainText('Ingenting sparades: title: För lång text');
  await page.getByLabel('Programmets namn').fill('Sov gott');
  // Follow-up: inactive after 10 days; more than a year is refused by the report.
  const inactive = page.getByLabel('Flagga som inaktiv efter så många dagar utan aktivitet');
  await inactive.fill('400');
  await expect(report).toContainText('follow_up');
  await inactive.fill('10');
  await page.getByRole('button', { name: 'Spara' }).click();
  await expect(status).toHaveText('Sparat, version av utkastet: 1');

  // What was saved is what comes back.
  await page.reload();
  await expect(page.locator('body[data-hydrated="true"]')).toHaveCount(1);
  await expect(outline.getByLabel('Modulens rubrik')).toHaveValue('Om sömn');
  await expect(pages).toHaveText(['Välkommen', 'Veckans skattning']);
  await expect(schedules.getByLabel('Schema 1: Öppet antal dagar')).toHaveValue('3');
  await expect(schedules.getByLabel('Schema 1: Måste besvaras innan patienten läser vidare')).toBeChecked();
  await expect(page.getByLabel('Flagga som inaktiv efter så många dagar utan aktivitet')).toHaveValue('10');
  await expect(
    page.getByLabel('Flagga hemuppgift som försenad så många dagar efter att modulen öppnades'),
  ).toHaveValue('7');

  // The publisher reviews what is new and publishes it as 1.0.
  await switchTo(page, 'publisher');
  await expect(page).toHaveURL(/\/program$/);
  await page
    .getByRole('row', { name: /Sov gott/ })
    .getByRole('link', { name: 'Granska och publicera' })
    .click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Granska och publicera');
  await expect(page.getByText('Första versionen: allt är nytt.')).toBeVisible();
  await expect(page.locator('.changes')).toContainText('Modul Om sömn — tillagt');
  await expect(page.locator('.changes')).toContainText('Schema gad7 — tillagt');
  await expect(page.getByLabel('Mindre ändring', { exact: false })).toBeDisabled();
  await expectAccessible(page, hydrated);
  await page.getByLabel('Vad har ändrats?').fill('Första versionen.');
  await page.getByRole('button', { name: 'Publicera' }).click();
  await expect(page.getByText('Inga ändringar sedan senaste versionen.')).toBeVisible();
  await expect(page.getByText('Ändringar sedan version 1.0')).toBeVisible();
  await open(page, '/program', hydrated);
  await expect(page.getByRole('row', { name: /Sov gott/ })).toContainText('1.0');

  // The publisher shares it with the neighbouring region ...
  await page
    .getByRole('row', { name: /Sov gott/ })
    .getByRole('link', { name: 'Granska och publicera' })
    .click();
  await page.getByRole('button', { name: 'Dela med Region Grann' }).click();
  await expect(page.getByRole('button', { name: 'Sluta dela med Region Grann' })).toBeVisible();

  // ... whose care-provider administrator activates it on a unit of theirs.
  await activateThere(page, hydrated, 'Sov gott');
});

/** As Region Grann's care-provider administrator: activates 1.0 on Grannmottagningen. */
async function activateThere(page: Page, hydrated: boolean, title: string) {
  await switchTo(page, 'neighbour_admin');
  await expect(page).toHaveURL(/\/katalog$/);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Programkatalog');
  const card = page.getByRole('region', { name: title });
  await expect(card).toContainText('Ägs av: Region Demo');
  await expect(card).toContainText('Inte aktiverat på någon enhet.');
  await expectAccessible(page, hydrated);
  await card.getByLabel('Version').selectOption('1.0');
  await card.getByLabel('Enhet').selectOption({ label: 'Grannmottagningen' });
  await card.getByRole('button', { name: 'Aktivera', exact: true }).click();
  await open(page, '/katalog?visa=aktiva', hydrated);
  await expect(page.getByRole('link', { name: 'Aktiva' })).toHaveAttribute('aria-current', 'page');
  await expect(page.getByRole('region', { name: title })).toContainText(
    'Aktivt på Grannmottagningen 1.0',
  );
}

test('a published program is shared, activated in another region, and unpublished', async ({
  page,
  hydrated,
}) => {
  const title = 'Hantera oro';
  await open(page, '/', hydrated);
  await page.getByRole('button', { name: 'Prova som publicerare' }).click();
  await page
    .getByRole('row', { name: /Hantera oro/ })
    .getByRole('link', { name: 'Granska och publicera' })
    .click();
  await expect(page.getByText('Inga ändringar sedan senaste versionen.')).toBeVisible();
  await page.getByRole('button', { name: 'Dela med Region Grann' }).click();
  await expect(page.getByRole('region', { name: 'Delning' })).toContainText('Region Grann (delas)');
  await expectAccessible(page, hydrated);

  await activateThere(page, hydrated, title);
  // Not available to activate again while active; listed under Active only.
  await open(page, '/katalog?visa=tillgangliga', hydrated);
  await expect(page.getByRole('region', { name: title })).toHaveCount(0);

  // The owner unpublishes 1.0: no new activations, but the running one continues.
  await switchTo(page, 'publisher');
  await page
    .getByRole('row', { name: /Hantera oro/ })
    .getByRole('link', { name: 'Granska och publicera' })
    .click();
  await page.getByRole('button', { name: 'Avpublicera 1.0' }).click();
  await expect(page.getByRole('region', { name: 'Versioner' })).toContainText('1.0 avpublicerad');
  await switchTo(page, 'neighbour_admin');
  await open(page, '/katalog?visa=avpublicerade', hydrated);
  const card = page.getByRole('region', { name: title });
  await expect(card).toContainText('Versioner: 1.0 (avpublicerad)');
  await expect(card).toContainText('Aktivt på Grannmottagningen 1.0');
  await expect(card.getByRole('button', { name: 'Aktivera', exact: true })).toHaveCount(0);

  // Deactivated there: no longer active.
  await card.getByRole('button', { name: `Avaktivera ${title} Grannmottagningen` }).click();
  await open(page, '/katalog?visa=aktiva', hydrated);
  await expect(page.getByText('Inga program här.')).toBeVisible();
});

test('without JavaScript, programs are listed and created, and an empty one cannot be published', async ({
  page,
  hydrated,
}) => {
  await createProgram(page, hydrated, 'Tomt program');
  if (!hydrated) {
    await expect(page.getByText('Redigeringen kräver JavaScript.')).toBeVisible();
  } else {
    await expect(page.locator('[data-editor="ready"]')).toHaveCount(1);
    await expect(page.getByText('Redigeringen kräver JavaScript.')).toHaveCount(0);
  }
  await switchTo(page, 'publisher');
  await page
    .getByRole('row', { name: /Tomt program/ })
    .getByRole('link', { name: 'Granska och publicera' })
    .click();
  await expect(page.getByRole('alert')).toContainText('Programmet har inga moduler.');
  await expect(page.getByRole('button', { name: 'Publicera' })).toHaveCount(0);
  await expectAccessible(page, hydrated);
});

/** A 1×1 PNG. */
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
  'base64',
);

test('a producer uploads a picture, writes a form of the program’s own, and shows a block on a condition', async ({
  page,
  hydrated,
}) => {
  test.skip(!hydrated, 'the editor needs JavaScript');
  await createProgram(page, hydrated, 'Bilder och formulär');
  await expect(page.locator('[data-editor="ready"]')).toHaveCount(1);
  const outline = page.getByRole('region', { name: 'Innehåll' });
  const editor = page.getByRole('region', { name: 'Sida', exact: true });
  const preview = page.getByRole('region', { name: 'Förhandsvisning' });
  await page.getByRole('button', { name: 'Lägg till modul' }).click();
  await outline.getByLabel('Modulens rubrik').fill('Veckan');
  await outline.getByRole('button', { name: 'Lägg till avsnitt' }).click();
  await outline.getByLabel('Avsnittets rubrik').fill('Uppföljning');
  await outline.getByRole('button', { name: 'Lägg till sida' }).click();
  await editor.getByLabel('Sidans rubrik').fill('Veckans frågor');

  // An image, uploaded: a file that only claims to be a picture is refused; a real one is
  // stored and shown in the preview from the program's own media.
  await editor.getByLabel('Nytt block').selectOption('image');
  await editor.getByRole('button', { name: 'Lägg till block' }).click();
  await editor.getByLabel('Ladda upp fil').setInputFiles({
    name: 'inte-en-bild.png',
    mimeType: 'image/png',
    buffer: Buffer.from('MZ this is not a picture'),
  });
  await expect(editor.locator('.upload-status')).toHaveText(
    'Filen laddades inte upp: filtypen är inte tillåten här',
  );
  await editor.getByLabel('Ladda upp fil').setInputFiles({
    name: 'kvall.png',
    mimeType: 'image/png',
    buffer: PNG,
  });
  await expect(editor.getByText(/^Uppladdad fil: [0-9a-f]{32}\.png \(1 kB\)$/)).toBeVisible();
  await editor.getByLabel('Alternativtext').fill('En lugn kväll');
  const image = preview.getByRole('img', { name: 'En lugn kväll' });
  await expect(image).toHaveAttribute('src', /^\/media\/\d+\/[0-9a-f]{32}\.png$/);
  const src = await image.getAttribute('src');
  const served = await page.request.get(src!);
  expect(served.status()).toBe(200);
  expect(served.headers()['content-type']).toBe('image/png');
  expect(Buffer.from(await served.body()).equals(PNG)).toBe(true);

  // A form of the program's own: one item, a band and an urgent alert on the total.
  const forms = page.getByRole('region', { name: 'Formulär i programmet' });
  await forms.getByRole('button', { name: 'Nytt eget formulär' }).click();
  await forms.getByLabel('Formulärets namn').fill('Veckoformulär');
  await forms.getByLabel('Frågetext Fråga 1').fill('Hur har veckan varit?');
  await forms.getByLabel('Svarsvärden Fråga 1').fill('0, 1, 2, 3, 4');
  await forms.getByLabel('Svarsvärden Fråga 1').blur();
  await forms.getByRole('button', { name: 'Lägg till nivå' }).click();
  await forms.getByLabel('Namn Nivå 1').fill('Hela veckan');
  await expect(forms.getByLabel('Till Nivå 1')).toHaveValue('4');
  await forms.getByRole('button', { name: 'Lägg till larm' }).click();
  await forms.getByLabel('Värde Larm 1').fill('3');
  await forms.getByLabel('Prioritet Larm 1').selectOption('urgent');

  // On the page: the form, and a text shown only when its total is at least 3.
  await editor.getByLabel('Nytt block').selectOption('questionnaire');
  await editor.getByRole('button', { name: 'Lägg till block' }).click();
  await editor.getByLabel('Nytt block').selectOption('text');
  await editor.getByRole('button', { name: 'Lägg till block' }).click();
  await editor.getByLabel('Text', { exact: true }).fill('Det låter som en tung vecka.');
  await editor.getByRole('button', { name: 'Lägg till villkor (Block 3)' }).click();
  await editor.getByLabel('Jämförelse (Block 3)').selectOption('at_least');
  await editor.getByLabel('Värde (Block 3)').fill('3');
  await expect(editor.getByLabel('Fråga eller summa (Block 3)')).toHaveValue('total');

  // Answered in the preview: scored by the form's own rules, with its alert.
  const form = preview.getByRole('region', { name: 'Veckoformulär' });
  await form.getByRole('group', { name: 'Hur har veckan varit?' }).getByLabel('4').check();
  await expect(form.getByRole('status')).toContainText('Summa: 4 (Hela veckan)');
  await expect(form.getByRole('status')).toContainText('larm1');
  const report = page.getByRole('region', { name: 'Kontroll före publicering' });
  await expect(report).toContainText('Inga problem hittades.');
  await expectAccessible(page, hydrated);

  // Saved and read back: the file, the form and the condition.
  await page.getByRole('button', { name: 'Spara' }).click();
  await expect(page.locator('.save-status')).toHaveText('Sparat, version av utkastet: 1');
  await page.reload();
  await expect(page.locator('[data-editor="ready"]')).toHaveCount(1);
  await outline.getByRole('button', { name: 'Veckans frågor', exact: true }).click();
  await expect(editor.getByText(/^Uppladdad fil: /)).toBeVisible();
  await expect(editor.getByLabel('Värde (Block 3)')).toHaveValue('3');
  await expect(forms.getByLabel('Frågetext Fråga 1')).toHaveValue('Hur har veckan varit?');
  await expect(forms.getByLabel('Prioritet Larm 1')).toHaveValue('urgent');
});

test('a version goes out as a package file and comes back in as a new program', async ({
  page,
  hydrated,
}) => {
  await open(page, '/', hydrated);
  await page.getByRole('button', { name: 'Prova som publicerare' }).click();
  await page
    .getByRole('row', { name: /Sov bättre/ })
    .getByRole('link', { name: 'Granska och publicera' })
    .click();
  const downloading = page.waitForEvent('download');
  await page.getByRole('link', { name: 'Ladda ner paket 1.0' }).click();
  const download = await downloading;
  expect(download.suggestedFilename()).toBe('sov-battre-1.0.lotsen.zip');
  const file = test.info().outputPath('sov-battre-1.0.lotsen.zip');
  await download.saveAs(file);

  // The producer imports it: checked, then a new program whose draft is the package's.
  await switchTo(page, 'producer');
  await expect(page).toHaveURL(/\/program$/);
  const importForm = page.getByRole('form', { name: 'Importera ett programpaket' });
  await importForm.getByLabel('Paketfil').setInputFiles(file);
  await importForm.getByRole('button', { name: 'Importera' }).click();
  await expect(page).toHaveURL(/\/program\/\d+$/);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Redigera program');
  if (hydrated) {
    await expect(page.locator('[data-editor="ready"]')).toHaveCount(1);
    await expect(page.getByLabel('Programmets namn')).toHaveValue('Sov bättre');
    await expect(page.getByRole('region', { name: 'Innehåll' }).locator('.outline-module')).toHaveCount(5);
  }
  await open(page, '/program', hydrated);
  await expect(page.getByRole('row', { name: /Sov bättre/ })).toHaveCount(2);

  // A file that is not a package: every reason shown, nothing created.
  await importForm.getByLabel('Paketfil').setInputFiles({
    name: 'fel.lotsen.zip',
    mimeType: 'application/zip',
    buffer: Buffer.from('this is not a zip archive'),
  });
  await importForm.getByRole('button', { name: 'Importera' }).click();
  await expect(page.getByRole('alert')).toContainText('Paketet importerades inte.');
  await expect(page.getByRole('alert')).toContainText('Filen är inte ett läsbart zip-arkiv.');
  await expectAccessible(page, hydrated);
  await open(page, '/program', hydrated);
  await expect(page.getByRole('row', { name: /Sov bättre/ })).toHaveCount(2);
});

test('a publisher tests a version as a patient, starts over, and stops', async ({
  page,
  hydrated,
}) => {
  await open(page, '/', hydrated);
  await page.getByRole('button', { name: 'Prova som publicerare' }).click();
  await page
    .getByRole('row', { name: /Hantera oro/ })
    .getByRole('link', { name: 'Granska och publicera' })
    .click();
  const review = page.url();
  const testing = page.getByRole('region', { name: 'Testa som patient' });
  await testing.getByLabel('Vad vill du testa?').selectOption('1.0');
  await testing.getByRole('button', { name: 'Testa som patient' }).click();

  // The patient's treatment page, from its start, under a banner that says what this is.
  await expect(page).toHaveURL(/\/mina-sidor\/behandling\/\d+$/);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Hantera oro');
  const banner = page.getByRole('note').filter({ hasText: 'Du testar programmet som patient' });
  await expect(banner).toContainText('inga aviseringar skickas');
  const first = page
    .getByRole('listitem')
    .filter({ has: page.getByRole('heading', { name: 'Vad är oro?' }) });
  await expect(first.getByText('Öppen')).toBeVisible();
  const second = page
    .getByRole('listitem')
    .filter({ has: page.getByRole('heading', { name: 'Oroliga tankar' }) });
  await expect(second.getByText('Låst – öppnas när du kommit så långt')).toBeVisible();
  await expect(page.getByLabel('Du provar som')).toHaveCount(0);
  await expectAccessible(page, hydrated);
  const test = page.url();

  // A page of the first module, as the patient reads it.
  await first.getByRole('link').first().click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Vad är oro?');
  await expectAccessible(page, hydrated);

  // From the therapist's side, as the test's therapist: feedback on the first module opens
  // the second for the test patient.
  await page.getByRole('link', { name: 'Se som behandlare' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Testet sett från behandlarens sida');
  await expectAccessible(page, hydrated);
  await page.getByLabel('Återkoppling på modulen').fill('Bra början.');
  await page.getByRole('button', { name: 'Skicka återkopplingen' }).click();
  await expect(page.locator('.staff-module h5').nth(1)).toContainText('Oroliga tankar – Öppen');
  await page.getByRole('link', { name: 'Tillbaka till patientens sida' }).click();
  await expect(second.getByText('Öppen')).toBeVisible();

  // Starting over is a new test; stopping goes back to the review, as the publisher again.
  await page.getByRole('button', { name: 'Börja om' }).click();
  await expect(page).toHaveURL(/\/mina-sidor\/behandling\/\d+$/);
  expect(page.url()).not.toBe(test);
  await expect(first.getByText('Öppen')).toBeVisible();
  await page.getByRole('button', { name: 'Avsluta testet' }).click();
  await expect(page).toHaveURL(review);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Granska och publicera');
  await expect(banner).toHaveCount(0);
  await expect(page.getByLabel('Du provar som')).toBeVisible();
});
