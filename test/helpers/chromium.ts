// Headless Debian Chromium for page tests (playwright-core), with the flags this closed network needs.
import { existsSync } from 'node:fs';
import { type BrowserContext, chromium } from 'playwright-core';
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
