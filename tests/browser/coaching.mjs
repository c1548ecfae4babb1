// The coaching loop on /feedback in Debian's chromium (playwright-core): an
// operator disputes one failed item with a reason; only the operator may
// dispute and only a supervisor resolve; the supervisor changes that item's
// answer with a note and the score follows; the operator reads the decision;
// an evaluation past dispute_days shows as "acknowledged (deadline)".
// usage: node coaching.mjs BASE_URL FIXTURE.json OUT_DIR
import { readFileSync } from 'node:fs';
import { launch, tally, until, login } from './lib.mjs';

const [base, fixturePath, out] = process.argv.slice(2);
const fx = JSON.parse(readFileSync(fixturePath, 'utf8'));
const t = tally(), check = t.check;
const browser = await launch();

// a request from the page, with the session's CSRF token: the status code
const post = (page, path, body) => page.evaluate(async ([p, b]) => (await fetch('/api/v1' + p, {
  method: 'POST', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': sessionStorage.getItem('csrf') || '' },
  body: JSON.stringify(b) })).status, [path, body]);
const get = (page, path) => page.evaluate(async (p) => (await fetch('/api/v1' + p)).json(), path);

try {
  const op = await login(browser, base, fx.operator.name, fx.operator.password, t);
  await op.goto(base + '/feedback');
  const card = op.locator(`[data-eval="${fx.wrong}"]`);
  await card.waitFor();
  check('the failed item is listed with what it cost', /−\d+\.\d points/.test(await card.locator('.failed-items [data-item="price-correct"]').textContent()));
  check('the deadline evaluation reads "acknowledged (deadline)"',
    (await op.locator(`[data-eval="${fx.late}"] .status`).textContent()) === 'acknowledged (deadline)');
  await card.locator('.dispute-item[data-item="price-correct"] input[type=checkbox]').check();
  await card.locator('.dispute-item[data-item="price-correct"] input[type=text]').fill('I quoted 21.90, the list of that day');
  await card.locator('button.dispute-items').click();
  await until(op, (id) => document.querySelector(`[data-eval="${id}"]`)?.dataset.status === 'disputed', 'disputed', 10000, fx.wrong);
  const waiting = await op.locator(`[data-eval="${fx.wrong}"] .item-dispute[data-item="price-correct"]`).textContent();
  check(`the item waits for a decision (${waiting})`, waiting.includes('waiting for a decision'));
  check('an operator cannot resolve (403)', await post(op, `/evaluations/${fx.wrong}/resolve`,
    { items: { 'price-correct': { decision: 'upheld', note: 'mine' } } }) === 403);
  const before = await get(op, `/evaluations/${fx.wrong}`);

  const sup = await login(browser, base, fx.supervisor.name, fx.supervisor.password, t);
  check('a supervisor cannot dispute (403)', await post(sup, `/evaluations/${fx.other}/dispute`,
    { items: { 'price-correct': 'x' } }) === 403);
  await sup.goto(base + '/feedback');
  const row = sup.locator(`[data-eval="${fx.wrong}"] .resolve-item[data-item="price-correct"]`);
  await row.waitFor();
  check('the supervisor sees the operator\'s reason', (await row.textContent()).includes('I quoted 21.90'));
  await row.locator('input[value=changed]').check();
  await row.locator('select').selectOption('yes');
  await row.locator('input[type=text]').fill('listened again: 21.90 was that day\'s price');
  await sup.locator(`[data-eval="${fx.wrong}"] button.resolve-items`).click();
  await until(sup, (id) => !document.querySelector(`[data-eval="${id}"]`), 'resolved', 10000, fx.wrong);
  const after = await get(sup, `/evaluations/${fx.wrong}`);
  const d = (after.item_disputes || [])[0] || {};
  check(`resolved, the answer changed, the score up (${before.score} → ${after.score})`,
    after.status === 'resolved' && d.decision === 'changed' && d.answer_before === 'no' && d.answer_after === 'yes' && after.score > before.score);
  await op.goto(base + '/feedback');
  const decided = await op.locator(`[data-eval="${fx.wrong}"] .item-dispute`).textContent();
  check(`the operator reads the decision (${decided})`, decided.includes('changed by sup (no → yes)') && decided.includes('listened again'));
  await op.screenshot({ path: `${out}/feedback-items.png`, fullPage: true });

  // progress: the operator's own, the team as one number, no one else's name
  const mine = await get(op, `/operators/${fx.operator.operator}/progress?from=2000-01-01`);
  check(`the operator's progress (${mine.evaluations} evaluations, team median ${mine.team_median_average})`,
    mine.evaluations >= 2 && mine.team_median_average != null && mine.errors.every((e) => e.question && e.calls.length));
  check('no other operator in the answer', !JSON.stringify(mine).includes(`"${fx.other_operator}"`));
  check('another operator\'s progress is a 404', await op.evaluate(async (x) =>
    (await fetch(`/api/v1/operators/${x}/progress`)).status, fx.other_operator) === 404);
  check('an operator cannot set goals (403)', await post(op, `/operators/${fx.operator.operator}/goals`,
    { kind: 'average', min_average: 90, weeks: 4 }) === 403);

  // a supervisor sets a goal on the page; the operator sees it with its progress
  await sup.goto(`${base}/progress?operator=${fx.operator.operator}&from=2000-01-01`);
  await sup.waitForSelector('#result:not([hidden]) svg.trend polyline', { state: 'attached' }); // one week: one point
  await sup.selectOption('#goalform select[name=kind]', 'errors');
  await sup.fill('#goalform input[name=error_tag]', 'wrong-price');
  await sup.fill('#goalform input[name=max_errors]', '0');
  await sup.fill('#goalform input[name=next_evaluations]', '5');
  await sup.fill('#goalform input[name=note]', 'read the price list back');
  await sup.click('#goalform button[type=submit]');
  await sup.waitForSelector('#goals li[data-state=open]');
  await op.goto(`${base}/progress?from=2000-01-01`);
  await op.waitForSelector('#goals li');
  const g = await op.locator('#goals li').first().textContent();
  check(`the operator sees the goal (${g})`, g.includes('at most 0 × wrong-price in the next 5 evaluations') && g.includes('read the price list back'));
  const text = await op.locator('main').textContent();
  check('the page names no other operator', !text.includes(`operator ${fx.other_operator}`));
  check('the trend chart is drawn', await op.locator('svg.trend polyline').count() === 1);
  await op.screenshot({ path: `${out}/progress.png`, fullPage: true });
} catch (e) {
  t.fail(e.message);
} finally {
  await browser.close();
}
t.report();
