// The review pages in Debian's chromium (playwright-core): log in per role,
// list and filter, play (currentTime advances), seek on the waveform, score
// and submit, acknowledge, dispute, resolve, download CSV/XLSX, and check that
// metadata and comments holding markup stay text. Screenshots go to OUT_DIR.
// usage: node review.mjs BASE_URL FIXTURE.json OUT_DIR
import { chromium } from 'playwright-core';
import { readFileSync, writeFileSync } from 'node:fs';

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
         '--disable-component-update', '--disable-sync', '--autoplay-policy=no-user-gesture-required'],
});
let alerts = 0;

// page.waitForFunction compiles its predicate inside the page, which the
// pages' Content-Security-Policy (rightly) refuses; poll from here instead.
async function waitFor(page, fn, arg, timeout = 10000) {
  const end = Date.now() + timeout;
  for (;;) {
    if (await page.evaluate(fn, arg)) return;
    if (Date.now() > end) throw new Error('timed out waiting for ' + fn.toString().slice(0, 80));
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function loginAs(user) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  const page = await context.newPage();
  page.on('dialog', async (d) => { if (d.type() === 'alert') alerts++; await d.accept(d.type() === 'prompt' ? 'pinned by the browser test' : undefined); });
  page.on('pageerror', (e) => { failed++; console.log('FAIL: page error ' + e.message); });
  await page.goto(base + '/calls');
  check(`${user.name}: unauthenticated /calls goes to the login page`, page.url().endsWith('/login'));
  await page.fill('input[name=username]', user.name);
  await page.fill('input[name=password]', user.password);
  await page.click('button[type=submit]');
  await page.waitForSelector('header .who');
  return { context, page };
}

try {
  // a supervisor: list, filter, play, seek, score, submit
  const { context: sc, page } = await loginAs(fx.users.supervisor);
  check('supervisor lands on /calls', page.url().endsWith('/calls'));
  await page.waitForSelector('#calls tbody tr');
  const n = await page.locator('#calls tbody tr').count();
  check(`the list shows calls (${n})`, n > 0);
  const xss = page.locator('#calls tbody td', { hasText: fx.xss_caller });
  check('a caller name holding markup shows as text', await xss.count() === 1);
  await page.fill('input[name=operator]', fx.operator);
  await page.click('#filters button[type=submit]');
  await waitFor(page, (op) => [...document.querySelectorAll('#calls tbody tr td:nth-child(4)')].every((td) => td.textContent === op), fx.operator);
  check('filtered by operator', (await page.locator('#calls tbody tr').count()) === fx.calls.filter((c) => c.operator === fx.operator).length);
  await page.click('#calls th[data-key=duration_ms]');
  check('sortable column', await page.locator('#calls th.sorted-asc').count() === 1);
  await page.screenshot({ path: `${out}/calls.png`, fullPage: true });

  await page.goto(`${base}/calls/${fx.own_call}`);
  await page.waitForSelector('#items .item');
  check('the call page has an <audio> element', await page.locator('audio#player').count() === 1);
  await page.click('#play');
  await waitFor(page, () => document.getElementById('player').currentTime > 0.5, null, 15000);
  check('playing: currentTime advances', await page.evaluate(() => document.getElementById('player').currentTime) > 0.5);
  await page.click('#play');
  const box = await page.locator('#wave').boundingBox();
  await page.mouse.click(box.x + box.width * 0.75, box.y + box.height / 2);
  const t = await page.evaluate(() => { const a = document.getElementById('player'); return a.currentTime / a.duration; });
  check(`clicking the waveform seeks (${t.toFixed(2)})`, Math.abs(t - 0.75) < 0.05);
  await page.selectOption('#speed', '1.5');
  check('speed 1.5x', await page.evaluate(() => document.getElementById('player').playbackRate) === 1.5);

  // answer every item: all yes / the top of each scale, but the price wrong
  for (const r of await page.locator('#items input[type=radio][value=yes]').all()) await r.check();
  for (const s of await page.locator('#items select').all()) {
    const vals = await s.locator('option').evaluateAll((os) => os.map((o) => o.value).filter((v) => v !== '' && v !== 'na'));
    await s.selectOption(vals[vals.length - 1]);
  }
  await page.check('#items input[name="price-correct"][value=no]');
  // the live total follows the answers (a wrong price costs points)
  await waitFor(page, () => Number(document.getElementById('total').textContent) > 0 &&
    Number(document.getElementById('total').textContent) < 100);
  const live = await page.textContent('#total');
  check(`live total shown (${live})`, Number(live) > 0 && Number(live) < 100);
  await page.click('#items input[name="price-correct"][value=no]');
  await page.click('#pin');
  await page.fill('#overall', '<img src=x onerror=alert(1)> quoted the old price');
  await page.click('#submit');
  await waitFor(page, () => /Submitted/.test(document.getElementById('msg').textContent), null, 10000);
  check('submitted with the server\'s score = the live total', (await page.textContent('#msg')).includes(live), await page.textContent('#msg'));
  await page.waitForSelector('#evals .comment');
  check('the overall comment with markup is text', (await page.locator('#evals .comment', { hasText: '<img src=x' }).count()) >= 1);
  check('the pinned comment is listed', (await page.locator('#evals .comment', { hasText: 'pinned by the browser test' }).count()) >= 1);
  // the evaluation in detail: the failed item with its question and the points it cost
  const priceRow = page.locator('#evals .eval-item.failed[data-item="price-correct"]');
  check('the failed item is shown as failed', await priceRow.count() >= 1);
  const priceText = await priceRow.first().textContent();
  check(`with its question and the points it cost (${priceText})`, /−\d+\.\d points/.test(priceText) && priceText.length > 20);
  check('passed items are shown too', await page.locator('#evals .eval-item.passed').count() > 3);
  // the pinned comment's marker on the waveform: a click near it seeks to the comment
  const at = Number(await page.locator('#evals .comment[data-at]:not([data-at=""])').first().getAttribute('data-at'));
  await page.evaluate(() => { document.getElementById('player').currentTime = 0; });
  await page.locator('#wave').scrollIntoViewIfNeeded(); // the submit button scrolled it away
  const wb = await page.locator('#wave').boundingBox();
  const dur = await page.evaluate(() => document.getElementById('player').duration);
  await page.mouse.click(wb.x + wb.width * (at / 1000 / dur) + 2, wb.y + wb.height / 2);
  const after = await page.evaluate(() => document.getElementById('player').currentTime);
  check(`a click on the comment's marker seeks to it (${after.toFixed(2)} s vs ${(at / 1000).toFixed(2)} s of ${dur.toFixed(2)})`, Math.abs(after - at / 1000) < 0.5);
  await page.evaluate(() => { document.getElementById('player').currentTime = 0; });
  await page.locator('#evals .comment a.seek').first().click();
  const after2 = await page.evaluate(() => document.getElementById('player').currentTime);
  check(`and so does its time in the list (${after2.toFixed(2)} s)`, Math.abs(after2 - at / 1000) < 0.5);
  await page.screenshot({ path: `${out}/call.png`, fullPage: true });

  // on a tablet (portrait) the scoring form goes below the player
  const tab = await sc.newPage();
  await tab.setViewportSize({ width: 800, height: 1100 });
  tab.on('pageerror', (e) => { failed++; console.log('FAIL: page error ' + e.message); });
  await tab.goto(`${base}/calls/${fx.own_call}`);
  await tab.waitForSelector('#items .item');
  const wave = await tab.locator('#wave').boundingBox(), form = await tab.locator('#scoring').boundingBox();
  check('tablet: one column, the form below the player, nothing wider than the screen',
    form.y > wave.y + wave.height && wave.width <= 800 && await tab.evaluate(() => document.documentElement.scrollWidth <= 800));
  await tab.screenshot({ path: `${out}/call-tablet.png`, fullPage: true });
  await tab.close();

  // exports from the list page
  await page.goto(`${base}/calls`);
  await page.waitForSelector('#calls tbody tr');
  const [csv] = await Promise.all([page.waitForEvent('download'), page.click('#csv')]);
  const csvText = readFileSync(await csv.path(), 'utf8');
  check('CSV download has a row per call', csvText.trim().split('\r\n').length === fx.calls.length + 1, csvText.split('\r\n').length);
  const [xlsx] = await Promise.all([page.waitForEvent('download'), page.click('#xlsx')]);
  writeFileSync(`${out}/calls.xlsx`, readFileSync(await xlsx.path()));
  check('XLSX download is a zip', readFileSync(await xlsx.path()).subarray(0, 2).toString() === 'PK');

  // the recurring-errors dashboard and the review queue
  await page.goto(`${base}/errors`);
  await page.fill('#window input[name=from]', '2000-01-01');
  await page.fill('#window input[name=to]', '2100-01-01');
  await page.click('#window button[type=submit]');
  await page.waitForSelector('#heat table th:has-text("wrong-price")');
  check('heat table has a wrong-price column', await page.locator('#heat th', { hasText: 'wrong-price' }).count() === 1);
  await page.waitForSelector('#items table');
  check('fail rates listed', await page.locator('#items td', { hasText: 'price-correct' }).count() === 1);
  await page.waitForSelector('#weeks svg, #weeks p');
  await page.screenshot({ path: `${out}/errors.png`, fullPage: true });
  await page.goto(`${base}/queue`);
  await page.fill('#q input[name=from]', '2000-01-01');
  await page.fill('#q input[name=to]', '2100-01-01');
  await page.fill('#q input[name=seed]', '42');
  await page.click('#q button[type=submit]');
  await waitFor(page, () => /Seed 42/.test(document.getElementById('seed').textContent));
  const drawn1 = await page.locator("#list a").evaluateAll((as) => as.map((a) => a.getAttribute('href')));
  await page.click('#q button[type=submit]');
  await waitFor(page, () => /Seed 42/.test(document.getElementById('seed').textContent));
  const drawn2 = await page.locator("#list a").evaluateAll((as) => as.map((a) => a.getAttribute('href')));
  check(`review queue: calls drawn (${drawn1.length}), the same for the same seed`, drawn1.length > 0 && JSON.stringify(drawn1) === JSON.stringify(drawn2));

  // the operator: acknowledge one, dispute another
  const { context: oc, page: op } = await loginAs(fx.users.operator);
  check('operator lands on /feedback', op.url().endsWith('/feedback'));
  await op.waitForSelector('[data-status=submitted]');
  const before = await op.locator('[data-status=submitted]').count();
  check(`operator sees submitted evaluations (${before})`, before >= 2);
  await op.locator('[data-status=submitted]').first().locator('button', { hasText: 'Acknowledge' }).click();
  await waitFor(op, (b) => document.querySelectorAll('[data-status=submitted]').length === b - 1, before);
  check('acknowledged', await op.locator('[data-status=acknowledged]').count() >= 1);
  const second = op.locator('[data-status=submitted]').first();
  await second.locator('textarea').fill('the customer asked for the old price list');
  await second.locator('button', { hasText: 'Dispute the whole evaluation' }).click();
  await op.waitForSelector('[data-status=disputed]');
  check('disputed', await op.locator('[data-status=disputed]').count() === 1);
  await op.goto(`${base}/calls/${fx.other_call}`);
  await op.waitForSelector('main p.error');
  check('another operator\'s call page shows no call', (await op.textContent('main')).includes('no such call'));
  await op.goto(`${base}/feedback`);
  await op.screenshot({ path: `${out}/feedback.png`, fullPage: true });

  // the supervisor resolves the dispute
  await page.goto(`${base}/feedback`);
  await page.waitForSelector('[data-status=disputed]');
  await page.locator('[data-status=disputed] textarea').fill('upheld: the list was current');
  await page.locator('[data-status=disputed] button', { hasText: 'Resolve' }).click();
  await page.waitForSelector('text=Nothing here.');
  check('resolved: the dispute queue is empty', true);
  check('no script from data ever ran (no alert)', alerts === 0);
  // the admin: users, a rubric upload with its problems inline, the audit log
  const { context: ac, page: ad } = await loginAs(fx.users.admin);
  await ad.goto(`${base}/admin`);
  await ad.waitForSelector('#users table');
  await ad.fill('#adduser input[name=name]', 'browser-sup');
  await ad.click('#adduser button[type=submit]');
  await waitFor(ad, () => /Password \(shown once\)/.test(document.getElementById('usermsg').textContent));
  // the list is fetched again after the message: wait for it, not just the message
  await waitFor(ad, () => [...document.querySelectorAll('#users td')].some((td) => td.textContent === 'browser-sup'))
    .catch(() => {});
  check('admin adds a user from the page', await ad.locator('#users td', { hasText: 'browser-sup' }).count() === 1);
  writeFileSync(`${out}/bad.yaml`, 'id: Bad\ntitle: x\npass_score: 120\nsections: []\n');
  await ad.setInputFiles('#upload input[type=file]', `${out}/bad.yaml`);
  await ad.click('#upload button[type=submit]');
  await ad.waitForSelector('#rubricmsg li');
  check('rubric problems shown inline with line:col', (await ad.textContent('#rubricmsg')).includes('bad.yaml:3:13: pass_score 120 is out of range'));
  await ad.waitForSelector('#audit table');
  check('the audit log is browsable', await ad.locator('#audit tbody tr').count() > 0);
  await ad.screenshot({ path: `${out}/admin.png`, fullPage: true });
  await ac.close();
  await sc.close();
  await oc.close();
} catch (err) {
  failed++;
  console.log('FAIL: ' + (err.stack || err));
} finally {
  await browser.close();
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
