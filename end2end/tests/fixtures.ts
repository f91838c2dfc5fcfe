import { test as base, expect, Page } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';

/**
 * Zero WCAG 2.1 A/AA violations on the page as the person sees it now.
 *
 * axe-core runs as JavaScript inside the page. With JavaScript disabled it cannot, so the
 * page's current DOM (scripts removed) is checked in a second, script-enabled page of the same
 * origin, where the same style sheets apply.
 */
export async function expectAccessible(page: Page, hydrated: boolean) {
  let target = page;
  let cleanup = async () => {};
  if (!hydrated) {
    const html = (await page.content()).replace(/<script\b[\s\S]*?<\/script>/gi, '');
    const browser = page.context().browser();
    if (!browser) throw new Error('no browser');
    const context = await browser.newContext({ javaScriptEnabled: true });
    target = await context.newPage();
    await target.goto(new URL('/healthz', page.url()).toString());
    await target.setContent(html, { waitUntil: 'load' });
    cleanup = () => context.close();
  }
  try {
    const results = await new AxeBuilder({ page: target })
      .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'])
      .analyze();
    const summary = results.violations.map(
      (v) =>
        `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`,
    );
    expect(summary, 'axe-core WCAG 2.1 AA violations').toEqual([]);
    expect(results.passes.length, 'axe-core checked the page').toBeGreaterThan(0);
  } finally {
    await cleanup();
  }
}

export const test = base.extend<{ hydrated: boolean }>({
  hydrated: async ({ javaScriptEnabled }, use) => {
    await use(javaScriptEnabled !== false);
  },
});

/** Opens a page and, when JavaScript runs, waits until the app has hydrated. */
export async function open(page: Page, url: string, hydrated: boolean) {
  const response = await page.goto(url);
  if (hydrated) {
    await expect(page.locator('body[data-hydrated="true"]')).toHaveCount(1);
  }
  return response;
}

/** Switches the demo visitor's role with the header's role switch (`patient`, `therapist`, …). */
export async function switchRole(page: Page, role: string) {
  await page.getByLabel('Du provar som').selectOption(role);
  await page.getByRole('button', { name: 'Byt roll' }).click();
}

export { expect };
