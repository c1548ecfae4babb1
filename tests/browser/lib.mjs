// Shared by the browser tests: Debian's chromium through playwright-core,
// a pass/fail tally, and polling (the pages' CSP forbids the string
// evaluation page.waitForFunction uses).
import { chromium } from 'playwright-core';

export function launch() {
  return chromium.launch({
    executablePath: process.env.ES_CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
           '--disable-component-update', '--disable-sync', '--autoplay-policy=no-user-gesture-required'],
  });
}

// check(what, ok, detail) counts; report() prints the "N passed, M failed" line the shell reads
export function tally() {
  const t = { passed: 0, failed: 0 };
  t.check = (what, ok, detail = '') => {
    if (ok) t.passed++;
    else { t.failed++; console.log(`FAIL: ${what} ${detail}`); }
  };
  t.fail = (msg) => { t.failed++; console.log('FAIL: ' + msg); };
  t.report = () => console.log(`${t.passed} passed, ${t.failed} failed`);
  return t;
}

// polls fn(arg) in the page until it returns something truthy, which it returns
export async function until(page, fn, what, timeout = 15000, arg = undefined) {
  const end = Date.now() + timeout;
  for (;;) {
    const v = await page.evaluate(fn, arg);
    if (v) return v;
    if (Date.now() > end) throw new Error('timed out: ' + what);
    await page.waitForTimeout(100);
  }
}

export async function login(browser, base, user, password, t) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, timezoneId: 'UTC' });
  const page = await context.newPage();
  page.on('pageerror', (e) => t.fail('page error ' + e.message));
  await page.goto(base + '/login');
  await page.fill('input[name=username]', user);
  await page.fill('input[name=password]', password);
  await page.click('button[type=submit]');
  await page.waitForSelector('header .who');
  return page;
}
