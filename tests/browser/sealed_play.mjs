// An encrypted recording plays on the call page in Debian's chromium
// (playwright-core): the <audio> element loads through Range requests the
// server decrypts, reports the recording's duration, plays, and seeks when
// the waveform is clicked (a Range request into the middle of the file).
// usage: node sealed_play.mjs BASE_URL FIXTURE.json
import { readFileSync } from 'node:fs';
import { launch, tally, until, login } from './lib.mjs';

const [base, fixturePath] = process.argv.slice(2);
const fx = JSON.parse(readFileSync(fixturePath, 'utf8'));
const t = tally(), check = t.check;
const browser = await launch();
try {
  const page = await login(browser, base, 'sup', fx.password, t);
  const ranges = [];
  page.on('request', (r) => { if (r.url().includes('/audio')) ranges.push(r.headers().range || 'none'); });
  await page.goto(`${base}/calls/${fx.call}`);
  const d = await until(page, () => document.getElementById('player').duration, 'metadata');
  check(`the element reports the duration (${d.toFixed(2)} s vs ${fx.duration})`, Math.abs(d - fx.duration) < 0.1);
  await page.click('#play');
  await until(page, () => document.getElementById('player').currentTime > 0.5, 'playing');
  check('it plays', true);
  await page.click('#play');
  const box = await page.locator('#wave').boundingBox();
  await page.mouse.click(box.x + box.width * 0.75, box.y + box.height / 2);
  const pos = await page.evaluate(() => { const a = document.getElementById('player'); return a.currentTime / a.duration; });
  check(`a click on the waveform seeks (${pos.toFixed(2)})`, Math.abs(pos - 0.75) < 0.05);
  await page.click('#play');
  const t0 = await page.evaluate(() => document.getElementById('player').currentTime);
  await until(page, () => { const a = document.getElementById('player'); return a.currentTime > 0.76 * a.duration; }, 'playing after the seek');
  check(`and plays on from there (${t0.toFixed(2)} s)`, t0 >= 0.74 * d);
  const err = await page.evaluate(() => document.getElementById('player').error && document.getElementById('player').error.message);
  check(`no media error (${err})`, !err);
  check(`the audio came by Range requests (${ranges.join(' ')})`, ranges.some((r) => r.startsWith('bytes=')));
} catch (e) {
  t.fail(e.message);
} finally {
  await browser.close();
}
t.report();
