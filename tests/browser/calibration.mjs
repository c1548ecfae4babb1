// Calibration on its page in Debian's chromium (playwright-core): the lead
// starts a session; the first reviewer scores blind and then sees the table;
// the second sees nothing of it until answering; then the answers side by
// side, the agreement per item and alpha; the lead sets the reference.
// usage: node calibration.mjs BASE_URL FIXTURE.json OUT_DIR
import { readFileSync } from 'node:fs';
import { launch, tally, login } from './lib.mjs';

const [base, fixturePath, out] = process.argv.slice(2);
const fx = JSON.parse(readFileSync(fixturePath, 'utf8'));
const t = tally(), check = t.check;
const browser = await launch();

async function answerAll(page, wrong) { // yes everywhere, the top of each scale; `wrong` answered no
  for (const r of await page.locator('#items input[type=radio][value=yes]').all()) await r.check();
  for (const s of await page.locator('#items select').all()) {
    const vals = await s.locator('option').evaluateAll((os) => os.map((o) => o.value).filter((v) => v !== '' && v !== 'na'));
    await s.selectOption(vals[vals.length - 1]);
  }
  if (wrong) await page.check(`#items input[name="${wrong}"][value=no]`);
  // items that apply only to some calls (b2b) are left out when N/A is offered
  for (const na of await page.locator('#items input[type=radio][value=na]').all()) await na.check();
}

try {
  const lead = await login(browser, base, 'lead', fx.password, t);
  await lead.goto(base + '/calibration');
  await lead.fill('#create input[name=call_id]', fx.call);
  await lead.selectOption('#create select[name=rubric]', 'inbound-order');
  await lead.fill('#create input[name=reviewers]', 'rev1,rev2');
  await Promise.all([lead.waitForURL(/\?id=/), lead.click('#create button[type=submit]')]);
  const id = new URL(lead.url()).searchParams.get('id');
  await lead.waitForSelector('#session:not([hidden])');
  check('the lead, not a reviewer, gets no answer form yet', await lead.locator('#answerbox').isHidden());

  const r1 = await login(browser, base, 'rev1', fx.password, t);
  await r1.goto(`${base}/calibration?id=${id}`);
  await r1.waitForSelector('#session:not([hidden])');
  check('rev1 scores blind', await r1.locator('.blind').count() === 1 && await r1.locator('.sidebyside').count() === 0);
  await answerAll(r1, null);
  await r1.click('#send');
  await r1.waitForSelector('.sidebyside');
  check('after answering, rev1 sees the table', true);

  const r2 = await login(browser, base, 'rev2', fx.password, t);
  await r2.goto(`${base}/calibration?id=${id}`);
  await r2.waitForSelector('#session:not([hidden])');
  check('rev2 sees no table and no answers before answering',
    await r2.locator('.blind').count() === 1 && await r2.locator('.sidebyside').count() === 0 && await r2.locator('.alpha').count() === 0);
  await answerAll(r2, 'price-correct');
  await r2.click('#send');
  await r2.waitForSelector('.sidebyside');
  const price = await r2.locator('.sidebyside tr[data-item="price-correct"]').textContent();
  check(`side by side: price-correct yes / no, 50% agree (${price})`, price.includes('yes') && price.includes('no') && price.includes('50%'));
  const alpha = await r2.locator('.alpha strong').textContent();
  check(`alpha shown (${alpha})`, /^-?\d\.\d{3}$/.test(alpha));

  await lead.goto(`${base}/calibration?id=${id}`);
  await lead.waitForSelector('.sidebyside');
  check('the lead gets the reference form', await lead.locator('#answerbox').isVisible());
  await answerAll(lead, 'price-correct');
  await lead.click('#send');
  await lead.waitForSelector('.sidebyside th:has-text("Reference")');
  check('the reference column', true);
  await lead.waitForSelector('#report tr[data-reviewer="rev2"]');
  const r1row = await lead.locator('#report tr[data-reviewer="rev1"]').textContent();
  const r2row = await lead.locator('#report tr[data-reviewer="rev2"]').textContent();
  // the reference has price-correct no, as rev2 answered: rev2 agrees fully, rev1 on 9 of 10
  check(`reviewers against the reference (${r1row} / ${r2row})`, r2row.includes('100%') && r1row.includes('90%'));
  await lead.screenshot({ path: `${out}/calibration.png`, fullPage: true });
} catch (e) {
  t.fail(e.message);
} finally {
  await browser.close();
}
t.report();
