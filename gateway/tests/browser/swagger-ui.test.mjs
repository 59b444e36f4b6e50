// Swagger UI at /api/ renders in Debian's headless Chromium and lists the API's operations,
// with no request leaving the machine. BASE_URL names the running server
// (scripts/check-swagger-ui.sh starts one); CHROMIUM the browser (default /usr/bin/chromium).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const base = process.env.BASE_URL ?? 'http://127.0.0.1:3000';
const executablePath = process.env.CHROMIUM ?? '/usr/bin/chromium';
const flags = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

/** Whether a request stays on this machine: loopback hosts, or no host at all (data:, blob:). */
function local(url) {
  const { protocol, hostname } = new URL(url);
  if (!protocol.startsWith('http') && !protocol.startsWith('ws')) return true;
  const host = hostname.replace(/^\[|\]$/g, '');
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

test('Swagger UI at /api/ lists every dialect\'s operations, all from this machine', async () => {
  const profile = mkdtempSync(join(tmpdir(), 'swagger-ui-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath, headless: true, args: flags,
  });
  const requested = [];
  const foreign = [];
  try {
    // Anything bound elsewhere is refused, and remembered to fail the test.
    await context.route('**/*', (route) => {
      const url = route.request().url();
      requested.push(url);
      if (local(url)) return route.continue();
      foreign.push(url);
      return route.abort();
    });
    const page = context.pages()[0] ?? await context.newPage();
    const response = await page.goto(`${base}/api/`, { waitUntil: 'load' });
    assert.equal(response?.status(), 200);
    await page.waitForSelector('.opblock', { timeout: 30_000 });
    const operations = await page.locator('.opblock').count();
    const tags = await page.locator('.opblock-tag').allTextContents();
    if (process.env.SCREENSHOT) await page.screenshot({ path: process.env.SCREENSHOT, fullPage: false });
    assert.ok(operations >= 40, `only ${operations} operations shown`);
    for (const tag of ['native', 'echat', 'messenger', 'operations']) {
      assert.ok(tags.some((text) => text.trim().startsWith(tag)), `tag ${tag} in ${tags}`);
    }
    const paths = await page.locator('.opblock-summary-path').allTextContents();
    for (const path of ['/api/auth/register', '/api/auth/login', '/v1/rooms', '/groups']) {
      assert.ok(paths.some((text) => text.replace(/\u200b/g, '') === path), `${path} shown`);
    }
    assert.ok(requested.some((url) => url.endsWith('/api/openapi.json')), 'the document was fetched');
    assert.deepEqual(foreign, [], 'requests that would have left the machine');
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  }
});
