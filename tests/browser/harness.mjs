// What the browser tests (ui.test.mjs, model.test.mjs) share: the environment run.sh
// gives them, headless Chromium, pages that record everything that should not happen
// on them (console errors and warnings, uncaught exceptions, CSP violations, requests
// to another origin), the assertion that none of it did, and screenshots.
//
// Environment: MNIST_UI_URL (base URL of the service, required), ARTIFACTS_DIR,
// CHROMIUM (default /usr/bin/chromium), MNIST_UI_MOCK=1 when MNIST_UI_URL is
// tests/browser/mock-server.mjs, top_srcdir, top_builddir.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
export const BASE = (process.env.MNIST_UI_URL || '').replace(/\/+$/, '');
export const MOCK = process.env.MNIST_UI_MOCK === '1';
export const ARTIFACTS = process.env.ARTIFACTS_DIR ||
  path.join(process.env.top_builddir || path.resolve(here, '..', '..'), 'tests', 'artifacts');
export const SRC = process.env.top_srcdir || path.resolve(here, '..', '..');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
export const TIMEOUT = 60_000;

export const DESKTOP = { viewport: { width: 1280, height: 900 } };
export const PHONE = {
  viewport: { width: 360, height: 740 },
  deviceScaleFactor: 2,
  isMobile: true,
  hasTouch: true,
};

if (!BASE) throw new Error('MNIST_UI_URL is not set: run tests/browser/run.sh, or set it to a running service');

/** Chromium, headless; launch() gives it a fresh temporary profile, removed on close. */
export function launchChromium() {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  return chromium.launch({
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
  });
}

/**
 * A new context and page of `browser` on BASE + url, recording what should not happen
 * in `problems` (console, pageErrors, foreign) and the page's own
 * securitypolicyviolation events in window.__csp. `init` is one more init script for
 * the page; `beforeLoad(page)` runs before it loads. Returns { context, page,
 * problems, response }.
 */
export async function openRecordedPage(browser, options, { url = '/', colorScheme = 'light', init, beforeLoad } = {}) {
  const context = await browser.newContext({
    ...options, locale: 'en-US', timezoneId: 'UTC', reducedMotion: 'reduce', colorScheme,
  });
  const page = await context.newPage();
  const problems = { console: [], pageErrors: [], foreign: [] };
  page.on('console', (msg) => {
    if (msg.type() === 'error' || msg.type() === 'warning') problems.console.push(`${msg.type()}: ${msg.text()}`);
  });
  page.on('pageerror', (err) => problems.pageErrors.push(String(err)));
  page.on('request', (req) => {
    const u = req.url();
    if (!u.startsWith(BASE + '/') && !u.startsWith('data:') && !u.startsWith('blob:')) problems.foreign.push(u);
  });
  await page.addInitScript(() => {
    window.__csp = [];
    document.addEventListener('securitypolicyviolation', (e) => {
      window.__csp.push(`${e.violatedDirective} blocked ${e.blockedURI || 'inline'} (${e.sourceFile}:${e.lineNumber})`);
    });
  });
  if (init) await page.addInitScript(init);
  if (beforeLoad) await beforeLoad(page);
  const response = await page.goto(BASE + url, { waitUntil: 'load' });
  assert.equal(response.status(), 200, `${url} loads`);
  return { context, page, problems, response };
}

/** Runs `body` with the page that `opening` resolves to; closes its context however body ends. */
export async function withPage(opening, body) {
  const opened = await opening;
  try {
    return await body(opened);
  } finally {
    await opened.context.close();
  }
}

/**
 * Asserts that nothing went wrong on the page; `allowed` lists regular expressions of
 * console messages the test provokes on purpose (the browser logs every 4xx/5xx).
 */
export async function assertClean(page, problems, allowed = []) {
  const csp = await page.evaluate(() => window.__csp);
  assert.deepEqual(csp, [], 'no Content-Security-Policy violations');
  assert.deepEqual(problems.pageErrors, [], 'no uncaught exceptions');
  assert.deepEqual(problems.foreign, [], 'no request leaves the origin');
  const unexpected = problems.console.filter((m) => !allowed.some((re) => re.test(m)));
  assert.deepEqual(unexpected, [], 'no console errors or warnings');
}

/** A full-page screenshot into ARTIFACTS; returns its path. */
export async function screenshot(page, name) {
  const file = path.join(ARTIFACTS, name);
  await page.screenshot({ path: file, fullPage: true });
  console.log(`# screenshot ${file}`);
  return file;
}
