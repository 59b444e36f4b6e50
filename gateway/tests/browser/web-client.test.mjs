// The web chat client at / in Debian's headless Chromium: two users in two browser contexts,
// a direct chat and a group, messages both ways, typing and read ticks seen, history scrolled
// back 100 at a time, a phone-sized screen — and one of two gateways killed mid-chat, after
// which both pages reconnect through the other one and the conversation goes on with no
// message lost or shown twice. No request may leave the machine.
//
// GATEWAYS names the two gateways (host:port,host:port) and GATEWAY_A_PID the first one's
// process; scripts/check-web-client.sh starts them. The pages reach them through a TCP proxy
// started here, which sends each new connection to the first gateway that accepts it — the
// page's one origin, as a load balancer in front of the replicas would be. CHROMIUM names the
// browser (default /usr/bin/chromium); SCREENSHOT, if set, a PNG to save of the app;
// FRESH_DATABASE=1 says the users' plain names are free.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { chromium } from 'playwright-core';

const gateways = (process.env.GATEWAYS ?? '127.0.0.1:3000').split(',');
const gatewayA = Number(process.env.GATEWAY_A_PID ?? 0);
const executablePath = process.env.CHROMIUM ?? '/usr/bin/chromium';
const flags = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];
const WAIT = { timeout: 15_000 };

/** Whether a request stays on this machine: loopback hosts, or no host at all (data:, blob:). */
function local(url) {
  const { protocol, hostname } = new URL(url);
  if (!protocol.startsWith('http') && !protocol.startsWith('ws')) return true;
  const host = hostname.replace(/^\[|\]$/g, '');
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** A TCP proxy on a free loopback port: each connection goes to the first upstream that
 * accepts it; when either side closes, so does the other. */
async function failoverProxy(upstreams) {
  const accepted = upstreams.map(() => 0);
  const sockets = new Set();
  const server = net.createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => {});
    client.pause();
    const attempt = (index) => {
      if (index >= upstreams.length || client.destroyed) { client.destroy(); return; }
      const [host, port] = upstreams[index].split(':');
      const upstream = net.connect({ host, port: Number(port) });
      upstream.once('error', () => attempt(index + 1));
      upstream.once('connect', () => {
        accepted[index] += 1;
        upstream.removeAllListeners('error');
        upstream.on('error', () => client.destroy());
        upstream.on('close', () => client.destroy());
        client.on('close', () => upstream.destroy());
        upstream.setNoDelay(true);
        client.setNoDelay(true);
        client.pipe(upstream);
        upstream.pipe(client);
        client.resume();
      });
    };
    attempt(0);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    base: `http://127.0.0.1:${server.address().port}`,
    accepted,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

/** A browser context whose every request, page and socket is checked to stay local. */
async function guardedContext(browser, foreign, options = {}) {
  const context = await browser.newContext(options);
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (local(url)) return route.continue();
    foreign.push(url);
    return route.abort();
  });
  context.on('page', (page) => page.on('websocket', (socket) => {
    if (!local(socket.url())) foreign.push(socket.url());
  }));
  return context;
}

async function register(page, base, username) {
  const response = await page.goto(`${base}/`, { waitUntil: 'load' });
  assert.equal(response?.status(), 200);
  assert.match(response.headers()['content-type'], /^text\/html/);
  const form = page.locator('#register-form');
  await form.getByLabel('Username').fill(username);
  await form.getByLabel('Password').fill('a password of theirs');
  await form.getByRole('button').click();
  await page.locator('#me', { hasText: username }).waitFor(WAIT);
  await page.locator('#status').waitFor({ state: 'hidden', ...WAIT });
}

async function send(page, text) {
  await page.locator('#text').fill(text);
  await page.keyboard.press('Enter');
  // Acknowledged: no longer `sending`.
  await message(page, text, true).locator('.receipt:not([data-state="sending"])')
    .waitFor(WAIT);
}

/** The conversation named exactly `name` in the list. */
function item(page, name) {
  return page.locator('.conversation-item')
    .filter({ has: page.locator('.item-name').getByText(name, { exact: true }) });
}

async function open(page, name) {
  await item(page, name).click();
  await page.locator('#title', { hasText: name }).waitFor(WAIT);
}

/** The message whose text is exactly `text`, in the open conversation. */
function message(page, text, mine = false) {
  return page.locator(mine ? '#messages .message.mine' : '#messages .message')
    .filter({ has: page.locator('.text').getByText(text, { exact: true }) });
}

/** The texts of the open conversation, in order. */
function texts(page) {
  return page.locator('#messages .message .text').allTextContents();
}

test('two users chat in the web client, through a gateway killed mid-chat', async () => {
  const proxy = await failoverProxy(gateways);
  const browser = await chromium.launch({ executablePath, headless: true, args: flags });
  const foreign = [];
  // Over a fresh database (the script's) the names are plain; elsewhere, made unique.
  const suffix = process.env.FRESH_DATABASE ? '' : `_${Math.random().toString(36).slice(2, 8)}`;
  const alice = `alice${suffix}`;
  const bob = `bob${suffix}`;
  const errors = [];
  try {
    const desktop = { viewport: { width: 1000, height: 620 } };
    const a = await (await guardedContext(browser, foreign, desktop)).newPage();
    const b = await (await guardedContext(browser, foreign, desktop)).newPage();
    for (const page of [a, b]) page.on('pageerror', (error) => errors.push(error.message));

    // The JSON index stays for API clients.
    const index = await fetch(`${proxy.base}/`).then((r) => r.json());
    assert.equal(index.openapi, '/api/openapi.json');

    await register(a, proxy.base, alice);
    await register(b, proxy.base, bob);

    // A direct chat, started by alice from the people picker (keyboard: Alt+N).
    await a.keyboard.press('Alt+N');
    await a.locator('#picker-search').fill(bob);
    await a.locator(`.person[data-username="${bob}"]`).click();
    await a.locator('#title', { hasText: bob }).waitFor(WAIT);
    await send(a, 'hello bob');

    // bob sees it arrive, unread, then reads it; alice sees the read tick.
    await item(b, alice).locator('.badge', { hasText: '1' }).waitFor(WAIT);
    await open(b, alice);
    await message(b, 'hello bob').waitFor(WAIT);
    await message(a, 'hello bob', true).locator('.receipt[data-state="read"]').waitFor(WAIT);
    await item(b, alice).locator('.badge').waitFor({ state: 'detached', ...WAIT });

    // bob types: alice sees it; bob answers.
    await b.locator('#text').pressSequentially('hi al', { delay: 30 });
    await a.locator('#typing', { hasText: `${bob} is typing` }).waitFor(WAIT);
    await b.locator('#text').fill('hi alice');
    await b.keyboard.press('Enter');
    await message(a, 'hi alice').waitFor(WAIT);
    await a.locator('#typing', { hasText: 'typing' }).waitFor({ state: 'detached', ...WAIT }).catch(() => {});
    assert.equal(await a.locator('#typing').textContent(), '');

    // A group made by bob with alice in it.
    await b.locator('#new-group').click();
    await b.locator('#group-name').fill('team');
    await b.locator('#picker-search').fill(alice);
    await b.locator(`.person[data-username="${alice}"]`).click();
    await b.locator('#picker-ok').click();
    await b.locator('#title', { hasText: 'team' }).waitFor(WAIT);
    await send(b, 'welcome to the team');
    await item(a, 'team').waitFor(WAIT);
    await open(a, 'team');
    await message(a, 'welcome to the team').waitFor(WAIT);
    await send(a, 'glad to be here');
    await message(b, 'glad to be here').waitFor(WAIT);
    await message(a, 'glad to be here', true).locator('.receipt[data-state="read"]').waitFor(WAIT);
    // Most recent first.
    const order = await a.locator('.conversation-item .item-name').allTextContents();
    assert.deepEqual(order.slice(0, 2), ['team', bob]);

    // The owner's members panel: add-member and leave are there.
    await b.locator('#details').click();
    await b.locator('#members', { hasText: `${alice}` }).waitFor(WAIT);
    await b.locator('#members button', { hasText: 'Remove' }).waitFor(WAIT);
    await b.locator('#details').click();

    if (process.env.SCREENSHOT) {
      await b.locator('#text').pressSequentially('…', { delay: 20 });
      await a.locator('#typing', { hasText: 'typing' }).waitFor(WAIT);
      await a.screenshot({ path: process.env.SCREENSHOT });
      await b.locator('#text').fill('');
    }

    // History: 150 messages sent on a socket of alice's own, then scrolled back in bob's page.
    const historyGroup = await a.evaluate(async ({ bobName }) => {
      const session = JSON.parse(sessionStorage.getItem('chat-backend.session'));
      const auth = { authorization: `Bearer ${session.token}` };
      const people = await fetch(`/users?q=${bobName}`, { headers: auth }).then((r) => r.json());
      const group = await fetch('/groups', {
        method: 'POST', headers: auth,
        body: JSON.stringify({ name: 'history', user_ids: [people.users[0].id] }),
      }).then((r) => r.json());
      const path = new URL(session.messagingUrl).pathname;
      const socket = new WebSocket(`ws://${location.host}${path}`);
      await new Promise((resolve) => { socket.onopen = resolve; });
      let acknowledged = 0;
      const done = new Promise((resolve) => {
        socket.onmessage = (m) => {
          if (JSON.parse(m.data).type === 21 && ++acknowledged === 150) resolve();
        };
      });
      for (let i = 1; i <= 150; i += 1) {
        socket.send(JSON.stringify({ method: 40, body: { group_id: group.id, data: `old ${i}` } }));
      }
      await done;
      socket.close();
      return group.id;
    }, { bobName: bob });
    assert.ok(historyGroup);
    await item(b, 'history').locator('.badge', { hasText: '150' }).waitFor(WAIT);
    // From the server alone: a reload keeps the tab's session, and the unread count.
    await b.reload({ waitUntil: 'load' });
    await item(b, 'history').locator('.badge', { hasText: '150' }).waitFor(WAIT);
    await open(b, 'history');
    await message(b, 'old 150').waitFor(WAIT);
    assert.equal(await b.locator('#messages .message').count(), 100);
    await b.locator('#messages').evaluate((list) => { list.scrollTop = 0; });
    await b.locator('.beginning').waitFor(WAIT);
    const history = await texts(b);
    assert.deepEqual(history, Array.from({ length: 150 }, (_, i) => `old ${i + 1}`));

    // A phone-sized screen: the list alone, then the conversation alone with a way back.
    const phone = await (await guardedContext(browser, foreign, {
      viewport: { width: 390, height: 760 }, isMobile: true, hasTouch: true,
    })).newPage();
    await phone.goto(`${proxy.base}/`, { waitUntil: 'load' });
    await phone.locator('#login-form').getByLabel('Username or email').fill(alice);
    await phone.locator('#login-form').getByLabel('Password').fill('a password of theirs');
    await phone.locator('#login-form').getByRole('button').click();
    await item(phone, 'team').waitFor(WAIT);
    assert.equal(await phone.locator('main.conversation').isVisible(), false);
    await item(phone, 'team').click();
    await message(phone, 'glad to be here').waitFor(WAIT);
    assert.equal(await phone.locator('aside.sidebar').isVisible(), false);
    await phone.locator('#back').click();
    await item(phone, 'team').waitFor(WAIT);
    await phone.context().close();

    // Back to the team; every page notes each status it shows.
    await open(b, 'team');
    for (const page of [a, b]) {
      await page.evaluate(() => {
        window.statusesSeen = [];
        new MutationObserver(() => window.statusesSeen.push(document.getElementById('status').textContent))
          .observe(document.getElementById('status'), { childList: true, characterData: true, subtree: true });
      });
    }
    const before = [...proxy.accepted];
    assert.equal(before[1], 0, 'everything so far went through gateway A');

    // Gateway A dies mid-chat: its sockets drop; both sides keep writing.
    assert.ok(gatewayA > 0, 'GATEWAY_A_PID');
    process.kill(gatewayA, 'SIGKILL');
    const after = [];
    for (let i = 1; i <= 4; i += 1) {
      const [page, text] = i % 2 ? [a, `after the crash ${i} from alice`] : [b, `after the crash ${i} from bob`];
      after.push(text);
      await page.locator('#text').fill(text);
      await page.keyboard.press('Enter');
    }
    for (const page of [a, b]) {
      for (const text of after) await message(page, text).waitFor(WAIT);
      // None left (`first()`: there may be several while the sends go again).
      await page.locator('.receipt[data-state="sending"]').first().waitFor({ state: 'detached', ...WAIT });
      await page.locator('#status').waitFor({ state: 'hidden', ...WAIT });
      const seen = await page.evaluate(() => window.statusesSeen);
      assert.ok(seen.includes('reconnecting…'), `"reconnecting…" shown: ${seen}`);
    }
    // Each page shows the same conversation, each message once, in one order.
    const expected = ['welcome to the team', 'glad to be here'];
    const shownA = await texts(a);
    const shownB = await texts(b);
    assert.deepEqual(shownA, shownB);
    assert.deepEqual(shownA.slice(0, 2), expected);
    assert.deepEqual([...shownA.slice(2)].sort(), [...after].sort());
    assert.equal(new Set(shownA).size, shownA.length, 'a message shown twice');
    // Alice's writes after the crash are read by bob, who has the conversation open.
    await message(a, 'after the crash 3 from alice', true).locator('.receipt[data-state="read"]').waitFor(WAIT);
    // They came back through gateway B.
    assert.ok(proxy.accepted[1] > before[1], `connections to gateway B: ${proxy.accepted}`);

    // After a reload the page is still logged in and shows the same; then logout.
    await a.reload({ waitUntil: 'load' });
    await open(a, 'team');
    await message(a, 'after the crash 4 from bob').waitFor(WAIT);
    assert.deepEqual(await texts(a), shownA);
    await a.locator('#logout').click();
    await a.locator('#login-form').waitFor(WAIT);

    assert.deepEqual(errors, [], 'errors thrown in the pages');
    assert.deepEqual(foreign, [], 'requests that would have left the machine');
  } finally {
    await browser.close();
    await proxy.close();
  }
});
