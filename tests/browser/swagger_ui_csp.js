// Swagger UI works under the Content-Security-Policy the API sends
// (currency_api/swagger_csp.py) with no CSP violation, the page refuses to be framed, and
// Authorize + "Try it out" still answer 200. Run by tests/browser/test_swagger_ui.py under
// `make test`; by hand against a running server:
//
//   BASE=http://127.0.0.1:8000 TOKEN=$(.venv/bin/currency-api token) \
//     NODE_PATH=tools/browser/node_modules node tests/browser/swagger_ui_csp.js
//
// Needs a Chromium (Debian: apt-get install chromium); CHROMIUM overrides /usr/bin/chromium.
// Prints one line per check and exits non-zero if any fails.
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
  const failures = [];
  const check = (ok, what) => { console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`); if (!ok) failures.push(what); };
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1800 } });
    const violations = [];
    page.on('console', (m) => {
      if (/Content Security Policy|Refused to/i.test(m.text())) violations.push(m.text());
    });
    await page.exposeFunction('reportViolation', (v) => violations.push(v));
    await page.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', (e) =>
        window.reportViolation(`${e.violatedDirective} ${e.blockedURI}`));
    });
    const response = await page.goto(`${base}/ui/`);
    const csp = response.headers()['content-security-policy'] || '';
    check(csp.includes("frame-ancestors 'none'"), `CSP sent: ${csp.slice(0, 80)}...`);
    check(response.headers()['x-frame-options'] === 'DENY', 'X-Frame-Options: DENY');
    await page.waitForSelector('.opblock', { timeout: 15000 });
    check((await page.locator('.opblock').count()) >= 6, 'the operations are listed');

    await page.click('button.authorize');
    const bearer = page.locator('.auth-container', { hasText: 'bearerAuth' });
    await bearer.locator('input').fill(token);
    await bearer.locator('button.authorize').click();
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
    const shown = (await status.innerText()).trim();
    check(shown.startsWith('200'), `Try it out on GET /currencies/EUR answers 200 (${shown})`);

    // A page of another origin that frames the UI gets nothing rendered.
    const framer = await browser.newPage();
    await framer.setContent(`<iframe id="f" src="${base}/ui/" width="800" height="600"></iframe>`);
    await framer.waitForTimeout(1500);
    const frame = framer.frames().find((f) => f.url().includes('/ui/'));
    const framed = frame ? await frame.locator('#swagger-ui').count().catch(() => 0) : 0;
    check(framed === 0, 'the UI does not render inside a frame');

    check(violations.length === 0, `no CSP violation (${violations.length}) ${violations.slice(0, 3).join(' | ')}`);
  } finally {
    await browser.close();
  }
  process.exit(failures.length ? 1 : 0);
})().catch((e) => { console.error(e); process.exit(2); });
