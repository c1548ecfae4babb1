// Opens play.html?src=FILE in Debian's chromium through playwright-core and
// prints what the page found (see play.js) as one JSON line.
// usage: node play.mjs BASE_URL FILE
import { chromium } from 'playwright-core';

const [base, file] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.ES_CHROMIUM,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
         '--disable-background-networking', '--disable-component-update', '--disable-sync',
         '--autoplay-policy=no-user-gesture-required'],
});
try {
  const page = await browser.newPage();
  await page.goto(`${base}/play.html?src=${encodeURIComponent(file)}`);
  await page.waitForFunction(() => document.title === 'done', null, { timeout: 30000 });
  console.log(await page.textContent('#result'));
} finally {
  await browser.close();
}
