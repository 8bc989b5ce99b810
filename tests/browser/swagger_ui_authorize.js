// Manual check (not part of `make test`: CI has no Chromium): Swagger UI's Authorize button
// takes a token from `currency-api token` and "Try it out" on GET /currencies/{code} answers 200.
//
//   make run                                   # terminal 1
//   npm install --prefix /tmp/swagger-check playwright-core
//   BASE=http://127.0.0.1:8000 TOKEN=$(.venv/bin/currency-api token) \
//     NODE_PATH=/tmp/swagger-check/node_modules node tests/browser/swagger_ui_authorize.js
//
// Needs a Chromium (Debian: apt-get install chromium); CHROMIUM overrides /usr/bin/chromium.
// Prints the status Swagger UI shows and writes screenshots to /tmp.
const { chromium } = require('playwright-core');

(async () => {
  const base = process.env.BASE || 'http://127.0.0.1:8000';
  const token = (process.env.TOKEN || '').trim();
  if (!token) throw new Error('set TOKEN to the output of `currency-api token`');
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1800 } });
    const sent = [];
    page.on('request', (r) => {
      if (r.url().includes('/currencies/')) sent.push(`${r.method()} ${r.url()} ${r.headers().authorization ? 'with' : 'WITHOUT'} Authorization`);
    });
    await page.goto(`${base}/ui/`);
    await page.click('button.authorize');
    const bearer = page.locator('.auth-container', { hasText: 'bearerAuth' });
    await bearer.locator('input').fill(token);
    await bearer.locator('button.authorize').click();
    await page.screenshot({ path: '/tmp/swagger-authorized.png' });
    await page.locator('.modal-ux button.btn-done').last().click();
    const op = page.locator('.opblock-get', {
      has: page.locator('.opblock-summary-path', { hasText: /^\/currencies\/\{code\}$/ }),
    });
    await op.locator('.opblock-summary').click();
    await op.locator('button.try-out__btn').click();
    await op.locator('input[placeholder="code"]').fill('EUR');
    await op.locator('button.execute').click();
    const status = op.locator('.live-responses-table .response .response-col_status').first();
    await status.waitFor({ timeout: 10000 });
    const code = (await status.innerText()).trim();
    await op.scrollIntoViewIfNeeded();
    await page.screenshot({ path: '/tmp/swagger-try-it-out.png' });
    console.log(`Swagger UI shows ${code}; sent: ${sent.join('; ')}`);
    if (code !== '200') process.exitCode = 1;
  } finally {
    await browser.close();
  }
})().catch((e) => { console.error(e); process.exit(1); });
