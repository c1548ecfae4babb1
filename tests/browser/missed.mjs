// The missed-calls page in Debian's chromium (playwright-core): the open
// entries longest waiting first with tel: links and the callback tiles; a
// supervisor claims one ("sup is calling back") and closes another with a note;
// an operator sees only their line, and a claimed entry's button is disabled
// for them.
// usage: node missed.mjs BASE_URL FIXTURE.json OUT_DIR
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

async function loginAs(name) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, timezoneId: 'UTC' });
  const page = await context.newPage();
  page.on('pageerror', (e) => { failed++; console.log('FAIL: page error ' + e.message); });
  await page.goto(base + '/login');
  await page.fill('input[name=username]', name);
  await page.fill('input[name=password]', fx.password);
  await page.click('button[type=submit]');
  await page.waitForSelector('header .who');
  return { context, page };
}

try {
  const { context, page } = await loginAs('sup');
  check('the navigation links to the page', await page.locator('header a[href="/missed"]').count() === 1);
  await page.goto(base + '/missed');
  await page.waitForSelector('#missed-table');
  const rows = page.locator('#missed-table tbody tr');
  check(`a row per waiting customer (${await rows.count()})`, await rows.count() === fx.entries);
  const numbers = await page.locator('#missed-table a.tel').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
  check(`click-to-call links (${numbers[0]})`, numbers.length === fx.entries && numbers.every((h) => /^tel:\+49301\d{6}$/.test(h)));
  check('longest waiting first', numbers[0] === 'tel:+49301000000', numbers.join(' '));
  const tiles = await page.locator('.tile .value').allTextContents();
  check(`the tiles count the waiting ones (${tiles})`, Number(tiles[0]) === fx.entries && Number(tiles[1]) === fx.entries);

  // claim the entry of line 101, close the one of line 100
  const r101 = page.locator('#missed-table tbody tr', { hasText: '101' }).first();
  await r101.locator('button.claim').click();
  await page.waitForSelector('#missed-table tbody tr:has-text("sup is calling back")');
  check('a claim shows who is calling back', await page.locator('#missed-table tbody tr', { hasText: 'sup is calling back' }).count() === 1);
  page.once('dialog', (d) => d.accept('customer wrote an e-mail instead'));
  await page.locator('#missed-table tbody tr[data-number="+49301000000"] button.close').click();
  await page.locator('#missed-table tbody tr[data-number="+49301000000"]').waitFor({ state: 'detached' });
  check('a closed entry leaves the open list', await rows.count() === fx.entries - 1);
  await page.selectOption('select[name=status]', 'closed');
  await page.click('#filters button[type=submit]');
  await page.waitForSelector('#missed-table tbody tr[data-number="+49301000000"]');
  const closed = await page.locator('#missed-table tbody tr[data-number="+49301000000"]').textContent();
  check(`the closed list shows the note (${closed})`, closed.includes('manual by sup: customer wrote an e-mail instead'));
  await page.screenshot({ path: `${out}/missed.png`, fullPage: true });
  await context.close();

  const op = await loginAs('op101');
  await op.page.goto(base + '/missed');
  await op.page.waitForSelector('#missed-table');
  const opRows = await op.page.locator('#missed-table tbody tr').count();
  check(`the operator sees their line only (${opRows})`, opRows === 1);
  check('another\'s claim disables the button for them', await op.page.locator('#missed-table button.claim').isDisabled());
  check('no callback tiles for operators', await op.page.locator('.tile').count() === 0);
  await op.context.close();

  const adm = await loginAs('adm');
  await adm.page.goto(base + '/admin');
  await adm.page.waitForSelector('#dead table');
  const dead = adm.page.locator('#dead tbody tr');
  check(`the admin page lists the dead letters (${await dead.count()})`, await dead.count() === fx.dead);
  const text = await dead.first().textContent();
  check(`with the event and the error (${text})`, text.includes('call.missed') && /connect/i.test(text));
  check('and the counts', (await adm.page.locator('#notecounts').textContent()).includes(`${fx.dead} given up`));
  await dead.first().locator('button.retry').click();
  await adm.page.locator('#dead tbody tr').nth(fx.dead - 1).waitFor({ state: 'detached' });
  check('a retry takes it off the dead letters', await dead.count() === fx.dead - 1);
  await adm.context.close();
} catch (e) {
  failed++;
  console.log('FAIL: ' + e.message);
} finally {
  await browser.close();
}
console.log(`${passed} passed, ${failed} failed`);
