// The analytics pages in Debian's chromium (playwright-core) on a generated
// week of queue_log: /analytics (tiles equal to the generator's truth, the
// hour x weekday heat map and its metric switch, missed reasons, per day with
// links to the calls list, per queue), /presence (a timeline row per
// operator, an operator sees only their own), /staffing (weekdays and the
// Erlang what-if answering like `earshot erlang`).
// usage: node analytics.mjs BASE_URL FIXTURE.json OUT_DIR
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

async function loginAs(name, password) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, timezoneId: 'UTC' });
  const page = await context.newPage();
  page.on('pageerror', (e) => { failed++; console.log('FAIL: page error ' + e.message); });
  await page.goto(base + '/login');
  await page.fill('input[name=username]', name);
  await page.fill('input[name=password]', password);
  await page.click('button[type=submit]');
  await page.waitForSelector('header .who');
  return { context, page };
}

try {
  const { context, page } = await loginAs('sup', fx.password);
  await page.goto(`${base}/analytics?from=${fx.from}&to=${fx.to}`);
  await page.waitForSelector('#heat-table');
  const tiles = await page.locator('.tile .value').allTextContents();
  check(`tiles: offered ${tiles[0]}, answered ${tiles[1]}`, Number(tiles[0]) === fx.offered && Number(tiles[1]) === fx.answered, JSON.stringify(tiles));
  check('the heat map has a row per weekday', await page.locator('#heat-table tbody tr').count() === 7);
  const cells = await page.locator('#heat-table td.cell').allTextContents();
  const offeredSum = cells.reduce((s, c) => s + (Number(c) || 0), 0);
  check(`its cells add up to the offered calls (${offeredSum})`, offeredSum === fx.offered);
  await page.selectOption('#metric', 'missed');
  const missedCells = await page.locator('#heat-table td.cell').allTextContents();
  check('the metric switch shows the missed calls', missedCells.reduce((s, c) => s + (Number(c) || 0), 0) === fx.missed);
  const reasons = await page.locator('#reason-bars .item').count();
  check(`missed reasons as bars (${reasons})`, reasons === fx.reasons);
  const dayRows = await page.locator('#day-table tbody tr').count();
  check(`a row per day with calls (${dayRows})`, dayRows === 6);
  const link = await page.locator('#day-table tbody tr a').first().getAttribute('href');
  check(`a day links to its calls (${link})`, /^\/calls\?from=\d{4}-\d\d-\d\d&to=\d{4}-\d\d-\d\d$/.test(link));
  check('a row per queue', await page.locator('#queue-table tbody tr').count() === 2);
  await page.screenshot({ path: `${out}/analytics.png`, fullPage: true });

  await page.goto(`${base}/presence?day=${fx.from}`);
  await page.waitForSelector('#presence-table');
  check('presence: a timeline row per operator', await page.locator('.timeline-row').count() === 6);
  for (const state of ['in', 'paused', 'call'])
    check(`presence: ${state} segments drawn`, await page.locator(`svg.timeline rect.${state}`).count() >= 6);
  check('presence: totals per operator', await page.locator('#presence-table tbody tr').count() === 6);
  await page.screenshot({ path: `${out}/presence.png`, fullPage: true });

  // A slow start: the session answers late while the user types a window and
  // submits it; the dates typed must not be overwritten by the defaults.
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const isDefault = (url) => new URL(url).searchParams.get('from') !== fx.from;
  await page.route('**/api/v1/session', async (route) => { await sleep(1000); await route.continue(); });
  await page.goto(`${base}/staffing`);
  await page.fill('#window input[name=from]', fx.from);
  await page.fill('#window input[name=to]', fx.to);
  await page.click('#window button[type=submit]');
  for (const end = Date.now() + 20000; Date.now() < end; await page.waitForTimeout(100))
    if (await page.locator('.weekday').count() === 6) break;
  check('staffing: a card per open weekday', await page.locator('.weekday').count() === 6);
  check('staffing: the dates typed while the page started are kept', await page.inputValue('#window input[name=from]') === fx.from);
  await page.unrouteAll();
  // The page's own first load (its default window) answers after the window
  // the user asked for: it must not replace the answer to it.
  await page.route('**/api/v1/analytics/staffing?*', async (route) => {
    if (isDefault(route.request().url())) await sleep(1500);
    await route.continue();
  });
  const defaultAsked = page.waitForRequest((req) => req.url().includes('/analytics/staffing?') && isDefault(req.url()));
  await page.goto(`${base}/staffing`);
  const late = await defaultAsked;
  await page.fill('#window input[name=from]', fx.from);
  await page.fill('#window input[name=to]', fx.to);
  await page.click('#window button[type=submit]');
  for (const end = Date.now() + 20000; Date.now() < end; await page.waitForTimeout(100))
    if (await page.locator('.weekday').count() === 6) break;
  const answer = await page.locator('#weekdays').innerText();
  await late.response();
  await page.waitForTimeout(300);
  check('staffing: the default window answering late replaces nothing', await page.locator('#weekdays').innerText() === answer);
  await page.unrouteAll();
  await page.waitForSelector('#agents');
  check('the what-if answers like earshot erlang (14 operators)', (await page.locator('#agents').textContent()) === '14 operators');
  await page.fill('#whatif input[name=patience_s]', '120');
  await page.click('#whatif button[type=submit]');
  for (let i = 0; i < 50 && (await page.locator('#agents').textContent()) === '14 operators'; i++) await page.waitForTimeout(100);
  check('with callers who give up, Erlang A needs fewer', Number((await page.locator('#agents').textContent()).split(' ')[0]) < 14);
  await page.screenshot({ path: `${out}/staffing.png`, fullPage: true });
  await context.close();

  // an operator: their own presence only, no call analytics
  const op = await loginAs('op101', fx.password);
  const links = await op.page.locator('header a').allTextContents();
  check(`operator: no analytics link (${links.join(', ')})`, !links.includes('Analytics') && links.includes('My presence'));
  await op.page.goto(`${base}/presence?day=${fx.from}`);
  await op.page.waitForSelector('#presence-table');
  const rows = await op.page.locator('.timeline-row').evaluateAll((r) => r.map((x) => x.dataset.operator));
  check(`operator: only their own row (${rows})`, rows.length === 1 && rows[0] === '101');
  await op.context.close();
} catch (e) {
  failed++;
  console.log('FAIL: ' + e.stack);
} finally {
  await browser.close();
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
