// The compliance page in Debian's chromium (playwright-core): search by number
// (any spelling), the tiles and the calls, the held call marked; export
// downloads a ZIP (calls, recordings, evaluations, README); erase shows what it will do, asks for the
// request's reference, erases, and the held call stays.
// usage: node compliance.mjs BASE_URL FIXTURE.json OUT_DIR
import { chromium } from 'playwright-core';
import { readFileSync } from 'node:fs';

const [base, fixturePath, out] = process.argv.slice(2);
const fx = JSON.parse(readFileSync(fixturePath, 'utf8'));
let passed = 0, failed = 0;
const check = (what, ok, detail = '') => {
  if (ok) passed++;
  else { failed++; console.log(`FAIL: ${what} ${detail}`); }
};
const browser = await chromium.launch({
  executablePath: process.env.ES_CHROMIUM,
  args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
         '--disable-component-update', '--disable-sync'],
});

try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, timezoneId: 'UTC', acceptDownloads: true });
  const page = await context.newPage();
  page.on('pageerror', (e) => { failed++; console.log('FAIL: page error ' + e.message); });
  await page.goto(base + '/login');
  await page.fill('input[name=username]', 'comp');
  await page.fill('input[name=password]', fx.password);
  await page.click('button[type=submit]');
  await page.waitForSelector('header .who');
  check('the navigation links to the page', await page.locator('header a[href="/compliance"]').count() === 1);
  await page.goto(base + '/compliance');
  await page.fill('input[name=number]', fx.number);
  await page.click('#search button[type=submit]');
  await page.waitForSelector('#subject-calls');
  const rows = page.locator('#subject-calls tbody tr');
  check(`every call with the number, in any spelling (${await rows.count()})`, await rows.count() === fx.calls);
  check('the held call is marked', await page.locator('#subject-calls tbody tr.held').count() === 1);
  const tiles = await page.locator('.tile .value').allTextContents();
  check(`the tiles (${tiles})`, Number(tiles[0]) === fx.calls && Number(tiles[5]) === 1);

  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export')]);
  await download.saveAs(`${out}/export.zip`); // its contents are checked by the shell test
  const head = readFileSync(`${out}/export.zip`).subarray(0, 4).toString('latin1');
  check(`the export is a ZIP (${JSON.stringify(head)})`, head === 'PK\u0003\u0004');
  check('its file name does not carry the number', /^subject-[0-9a-f]{12}\.zip$/.test(download.suggestedFilename()), download.suggestedFilename());

  let dialogText = '';
  page.once('dialog', (d) => { dialogText = d.message(); d.accept('request 2026-118'); });
  await page.click('#erase');
  await page.waitForSelector('#msg:has-text("Erased")');
  check(`the preview said what would happen (${dialogText})`, dialogText.includes(`${fx.calls - 1} calls`) && dialogText.includes('1 under legal hold'));
  const msg = await page.locator('#msg').textContent();
  check(`erased, the held call left (${msg})`, msg.includes(`Erased ${fx.calls - 1} calls`) && msg.includes('1 under legal hold'));
  await page.locator('#subject-calls tbody tr').nth(1).waitFor({ state: 'detached' });
  check('found again: only the held call', await rows.count() === 1);
  await page.screenshot({ path: `${out}/compliance.png`, fullPage: true });
  await context.close();
} catch (e) {
  failed++;
  console.log('FAIL: ' + e.message);
} finally {
  await browser.close();
}
console.log(`${passed} passed, ${failed} failed`);
