import { test as base, expect, Locator, Page } from '@playwright/test';
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
    await axe(target, 'as shown');
    // And on the narrowest phone the service supports: no violations, no sideways scrolling.
    const size = target.viewportSize();
    await target.setViewportSize({ width: 320, height: 640 });
    try {
      await axe(target, 'at 320 px');
      // The page never scrolls sideways (a wide table scrolls in its own box); what sticks
      // out is named.
      const wide = await target.evaluate(() => {
        const root = document.documentElement;
        if (root.scrollWidth <= root.clientWidth) return [];
        return [...document.querySelectorAll('body *')]
          .filter((el) => el.getBoundingClientRect().right > root.clientWidth + 0.5)
          .map((el) => `${el.tagName.toLowerCase()}.${el.className} ${el.getBoundingClientRect().right}`)
          .slice(0, 8);
      });
      expect(wide, 'what makes the page wider than a 320 px screen').toEqual([]);
    } finally {
      // The copy of a page without JavaScript is closed after; the page itself is restored.
      if (size && target === page) await target.setViewportSize(size);
    }
  } finally {
    await cleanup();
  }
}

async function axe(target: Page, when: string) {
  const results = await new AxeBuilder({ page: target })
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'])
    .analyze();
  const summary = results.violations.map(
    (v) =>
      `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`,
  );
  expect(summary, `axe-core WCAG 2.1 AA violations, ${when}`).toEqual([]);
  expect(results.passes.length, 'axe-core checked the page').toBeGreaterThan(0);
}

/**
 * Presses Tab until the keyboard focus is on (or inside) `target`, as a person without a mouse
 * moves through the page; fails if it never gets there.
 */
export async function tabTo(page: Page, target: Locator, most = 80) {
  for (let i = 0; i < most; i++) {
    await page.keyboard.press('Tab');
    const there = await target
      .first()
      .evaluate((el) => el === document.activeElement || el.contains(document.activeElement));
    if (there) return;
  }
  throw new Error(`Tab did not reach ${target} in ${most} presses`);
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

/** Signs in at the test identity provider's own login form (end2end/idp). */
export async function atProvider(page: Page, login: string) {
  await page.locator('input[name=login]').fill(login);
  await page.locator('input[name=password]').fill('valfritt');
  await page.getByRole('button', { name: 'Sign-in' }).click();
}
