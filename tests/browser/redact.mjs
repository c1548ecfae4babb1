// PCI pauses and redaction on the call page in Debian's chromium
// (playwright-core): a call the operator paused by DTMF shows its pause in
// the details and as a hatched band on the waveform; a supervisor drags a
// range on the waveform, gives a reason and redacts it: the page comes back
// with the range flat and hatched and the redaction listed; an operator's drag
// offers nothing.
// usage: node redact.mjs BASE_URL FIXTURE.json OUT_DIR
import { readFileSync } from 'node:fs';
import { launch, tally, until, login } from './lib.mjs';

const [base, fixturePath, out] = process.argv.slice(2);
const fx = JSON.parse(readFileSync(fixturePath, 'utf8'));
const t = tally(), check = t.check;
const browser = await launch();

// share of the canvas columns [x0, x1) (fractions) painted with the grey hatch
async function hatched(page, x0, x1) {
  return page.evaluate(([a, b]) => {
    const c = document.getElementById('wave'), ctx = c.getContext('2d');
    const from = Math.floor(a * c.width), to = Math.floor(b * c.width);
    const d = ctx.getImageData(from, 0, to - from, c.height).data;
    let grey = 0;
    for (let i = 0; i < d.length; i += 4)
      if (d[i + 3] > 40 && Math.abs(d[i] - d[i + 1]) < 12 && Math.abs(d[i + 1] - d[i + 2]) < 12 && d[i] < 140) grey++;
    return grey / (d.length / 4);
  }, [x0, x1]);
}

async function ready(page) { // audio metadata loaded: the waveform is drawn to scale
  await until(page, () => document.getElementById('player').duration > 0, 'the audio');
  await page.waitForTimeout(200);
}

try {
  const page = await login(browser, base, 'sup', fx.password, t);

  // 1. the paused call
  await page.goto(`${base}/calls/${fx.paused}`);
  await ready(page);
  const dur = await page.evaluate(() => document.getElementById('player').duration * 1000);
  const pause = fx.pause; // {from_ms, to_ms}
  const pausedText = await page.locator('dt:has-text("Paused (PCI)") + dd').textContent();
  check(`the pause is listed (${pausedText})`, /0:01–0:03 \(dtmf\)/.test(pausedText));
  const inside = await hatched(page, (pause.from_ms + 200) / dur, (pause.to_ms - 200) / dur);
  const outside = await hatched(page, 0.02, (pause.from_ms - 300) / dur);
  check(`the pause is a hatched band (${inside.toFixed(3)} inside, ${outside.toFixed(3)} outside)`, inside > 0.05 && outside < 0.01);
  await page.screenshot({ path: `${out}/paused.png` });

  // 2. a supervisor redacts a range by dragging on the waveform
  await page.goto(`${base}/calls/${fx.plain}`);
  await ready(page);
  check('no form before a drag', await page.locator('#redact').isHidden());
  const box = await page.locator('#wave').boundingBox();
  const y = box.y + box.height / 2;
  await page.mouse.move(box.x + box.width * 0.30, y);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * 0.38, y, { steps: 5 });
  await page.mouse.move(box.x + box.width * 0.45, y, { steps: 5 });
  await page.mouse.up();
  await page.waitForSelector('#redact:not([hidden])');
  const rangeText = await page.locator('#redact-range').textContent();
  check(`the form names the range (${rangeText})`, /^\d+:\d\d–\d+:\d\d$/.test(rangeText));
  await page.fill('#redact-reason', 'card number read out');
  await Promise.all([page.waitForNavigation(), page.click('#redact-go')]);
  await ready(page);
  const redText = await page.locator('dt:has-text("Redacted") + dd').textContent();
  check(`the redaction is listed (${redText})`, redText.includes('by sup: card number read out'));
  const call = await page.evaluate(async (id) => (await fetch(`/api/v1/calls/${id}`)).json(), fx.plain);
  const r = (call.redactions || [])[0] || {};
  const d2 = call.duration_ms;
  check(`the range is the one dragged (${r.from_ms}..${r.to_ms} of ${d2})`, Math.abs(r.from_ms / d2 - 0.30) < 0.02 && Math.abs(r.to_ms / d2 - 0.45) < 0.02);
  const peaks = await page.evaluate(async (id) => (await fetch(`/api/v1/calls/${id}/peaks`)).json(), fx.plain);
  const lane = peaks.peaks[0], n = lane.length / 2;
  let loud = 0;
  for (let i = Math.ceil(n * r.from_ms / d2) + 1; i < Math.floor(n * r.to_ms / d2) - 1; i++) loud = Math.max(loud, Math.abs(lane[2 * i]), Math.abs(lane[2 * i + 1]));
  check(`the stored waveform is flat there (${loud})`, loud <= 1);
  const hr = await hatched(page, 0.32, 0.43);
  check(`and hatched on the page (${hr.toFixed(3)})`, hr > 0.05);
  await page.screenshot({ path: `${out}/redacted.png` });

  // 3. an operator's drag offers no redaction
  const op = await login(browser, base, '100', fx.password, t);
  await op.goto(`${base}/calls/${fx.paused}`);
  await ready(op);
  const b2 = await op.locator('#wave').boundingBox();
  await op.mouse.move(b2.x + b2.width * 0.2, b2.y + 40);
  await op.mouse.down();
  await op.mouse.move(b2.x + b2.width * 0.5, b2.y + 40, { steps: 5 });
  await op.mouse.up();
  await op.waitForTimeout(300);
  check('an operator gets no redaction form', await op.locator('#redact').isHidden());
} catch (e) {
  t.fail(e.message);
} finally {
  await browser.close();
}
t.report();
