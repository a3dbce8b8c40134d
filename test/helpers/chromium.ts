// Headless Debian Chromium for page tests (playwright-core), with the flags this closed network needs.
import { existsSync } from 'node:fs';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { needsInstalled } from './skip.js';

export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
export const chromiumMissing = !existsSync(CHROMIUM);
/** node:test's skip option for Chromium tests: skips locally without Chromium; under CI, an Error. */
export const chromiumSkip: string | false = needsInstalled(
  chromiumMissing && `Chromium not found at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`,
);

/** A persistent headless context in `profileDir`; background networking off (connections outside are refused here). */
export function launchChromium(
  profileDir: string,
  o: { viewport?: { width: number; height: number } } = {},
): Promise<BrowserContext> {
  return chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM,
    headless: true,
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
    ...(o.viewport ? { viewport: o.viewport } : {}),
  });
}

/**
 * Drops an image on the search page (its file input) with in-browser embedding on, waits for the results
 * and returns the vector the page computed and posted.
 */
export async function embedInPage(page: Page, image: string): Promise<number[]> {
  await page.setInputFiles('#file', image);
  await page.waitForFunction(
    () => /results for the uploaded image/.test(document.getElementById('status')?.textContent ?? ''),
    undefined,
    { timeout: 240_000 },
  );
  return (await page.evaluate(
    () => (window as unknown as { searchPage: { lastVector: number[] } }).searchPage.lastVector,
  )) as number[];
}
