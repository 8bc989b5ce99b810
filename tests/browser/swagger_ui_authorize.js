// Swagger UI in headless Chromium, as a person uses it: reads the Servers list, pastes a token
// under Authorize, then "Try it out" + Execute on every currency operation with the examples
// the spec fills in. Prints one JSON report on stdout; tests/browser/test_swagger_ui.py runs it
// against `currency-api serve` and asserts on the report (make test installs Chromium and
// playwright-core: mk/browser.mk).
//
// By hand:  make run   # terminal 1; then, in the same folder:
//   BASE=http://127.0.0.1:8000 TOKEN=$(.venv/bin/currency-api token) \
//     NODE_PATH=tools/browser/node_modules node tests/browser/swagger_ui_authorize.js
// CHROMIUM overrides /usr/bin/chromium; SCREENSHOTS=DIR writes screenshots there.
const path = require('path');
const { chromium } = require('playwright-core');

const OPERATIONS = [
  // [method, path] in the order they run: reads first, then writes on the examples.
  ['get', '/currencies/{code}'],
  ['put', '/currencies/{code}'],
  ['patch', '/currencies/{code}'],
  ['delete', '/currencies/{code}'],
  ['post', '/currencies'],
];

async function tryOut(page, method, opPath) {
  const op = page.locator(`.opblock-${method}`, {
    has: page.locator('.opblock-summary-path', { hasText: new RegExp(`^${opPath.replace(/[{}]/g, '\\$&')}$`) }),
  });
  await op.locator('.opblock-summary').click();
  await op.locator('button.try-out__btn').click();
  const parameters = await op.locator('.parameters tr[data-param-name]').evaluateAll((rows) =>
    rows.map((row) => `${row.getAttribute('data-param-in')}:${row.getAttribute('data-param-name')}`));
  const code = op.locator('input[placeholder="code"]');
  const codeValue = (await code.count()) ? await code.inputValue() : null;
  const body = op.locator('textarea.body-param__text');
  const bodyValue = (await body.count()) ? JSON.parse(await body.inputValue()) : null;
  await op.locator('button.execute').click();
  const status = op.locator('.live-responses-table .response .response-col_status').first();
  await status.waitFor({ timeout: 15000 });
  return { method, path: opPath, parameters, codeValue, body: bodyValue, status: (await status.innerText()).trim() };
}

(async () => {
  const base = process.env.BASE || 'http://127.0.0.1:8000';
  const token = (process.env.TOKEN || '').trim();
  if (!token) throw new Error('set TOKEN to the output of `currency-api token`');
  const shots = process.env.SCREENSHOTS;
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  const report = { sent: [] };
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 2400 } });
    page.on('request', (r) => {
      if (r.url().includes('/currencies')) {
        report.sent.push({ method: r.method(), url: r.url(), authorized: Boolean(r.headers().authorization) });
      }
    });
    await page.goto(`${base}/ui/`);
    await page.waitForSelector('.opblock');
    report.servers = await page.locator('.servers select option').allInnerTexts();
    const locks = () => page.locator('.opblock .authorization__btn').evaluateAll((buttons) =>
      buttons.map((b) => (b.classList.contains('locked') ? 'locked' : 'unlocked')));
    report.locksBefore = await locks();
    await page.click('button.authorize');
    report.authorizeDialog = (await page.locator('.auth-container h4').allInnerTexts()).map((t) => t.trim());
    const bearer = page.locator('.auth-container', { hasText: 'bearerAuth' });
    await bearer.locator('input').fill(token);
    await bearer.locator('button.authorize').click();
    if (shots) await page.screenshot({ path: path.join(shots, 'swagger-authorized.png') });
    await page.locator('.modal-ux button.btn-done').last().click();
    report.locksAfter = await locks();
    report.operations = [];
    for (const [method, opPath] of OPERATIONS) {
      report.operations.push(await tryOut(page, method, opPath));
    }
    if (shots) await page.screenshot({ path: path.join(shots, 'swagger-try-it-out.png'), fullPage: true });
  } finally {
    await browser.close();
  }
  console.log(JSON.stringify(report));
})().catch((e) => { console.error(e); process.exit(1); });
