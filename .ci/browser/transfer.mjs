// Measures what the web chat and the console cost to load: bytes on the wire per page (as
// Chromium received them, compressed or not) and the time from navigation to the chat's
// first bot message, locally and at 150 ms and 400 ms round trip (Chromium's network
// emulation adds the latency to every request). A measurement, not a test: it prints a
// table. Needs a running souk (SOUK_URL) whose store has operator `boss` with password
// $CONSOLE_PASSWORD (bash .ci/measure-transfer starts one).
import { chromium } from 'playwright-core';

const base = process.env.SOUK_URL ?? 'http://127.0.0.1:18080';
const password = process.env.CONSOLE_PASSWORD ?? 'transfer-measure-password';
const runs = Number(process.env.RUNS ?? 3);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
         '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});

// One fresh page (no cache, no stored session) at `rtt` ms; returns the bytes received per
// request and, with `wait`, the ms until it holds.
async function load(url, rtt, wait, before) {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
  const page = await context.newPage();
  if (before) await before(page);
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
  await cdp.send('Network.emulateNetworkConditions', {
    offline: false, latency: rtt, downloadThroughput: -1, uploadThroughput: -1,
  });
  const urls = new Map();
  const bytes = new Map();
  cdp.on('Network.requestWillBeSent', (e) => urls.set(e.requestId, e.request.url));
  cdp.on('Network.loadingFinished', (e) => {
    const path = new URL(urls.get(e.requestId) ?? base).pathname;
    bytes.set(path, (bytes.get(path) ?? 0) + e.encodedDataLength);
  });
  const started = Date.now();
  await page.goto(url);
  if (wait) await wait(page);
  const ms = Date.now() - started;
  await page.waitForTimeout(300);
  await context.close();
  return { ms, bytes };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const kb = (n) => `${(n / 1024).toFixed(1)} KB`;

// The web chat: time to the first bot message at each round trip, and what it loaded.
let chatBytes = null;
for (const rtt of [0, 150, 400]) {
  const times = [];
  for (let i = 0; i < runs; i++) {
    const { ms, bytes } = await load(`${base}/chat`, rtt,
      (page) => page.locator('.msg.bot').first().waitFor({ timeout: 30000 }));
    times.push(ms);
    chatBytes = bytes;
  }
  console.log(`chat first bot message at ${rtt} ms RTT: median ${median(times)} ms (${times.join(', ')})`);
}
const pageBytes = (bytes, keep) => [...bytes].filter(([path]) => keep(path));
const chatAssets = pageBytes(chatBytes, (p) => p === '/chat' || p.startsWith('/chat/assets/'));
console.log(`chat page and assets: ${kb(chatAssets.reduce((a, [, n]) => a + n, 0))} (${chatAssets.map(([p, n]) => `${p} ${kb(n)}`).join(', ')})`);
const chatApi = pageBytes(chatBytes, (p) => p.startsWith('/chat/api/'));
console.log(`chat API calls finished: ${chatApi.map(([p, n]) => `${p} ${kb(n)}`).join(', ') || 'none'}`);

// The console after logging in: its page and assets.
const { bytes: consoleBytes } = await load(`${base}/console`, 0,
  (page) => page.locator('#conv-list').waitFor({ timeout: 30000 }),
  async (page) => {
    await page.goto(`${base}/console/login`);
    await page.locator('input[name="name"]').fill('boss');
    await page.locator('input[name="password"]').fill(password);
    await Promise.all([page.waitForURL(/\/console$/), page.locator('button[type="submit"]').click()]);
  });
const consoleAssets = pageBytes(consoleBytes, (p) => p === '/console' || p.startsWith('/console/assets/'));
console.log(`console page and assets: ${kb(consoleAssets.reduce((a, [, n]) => a + n, 0))} (${consoleAssets.map(([p, n]) => `${p} ${kb(n)}`).join(', ')})`);
await browser.close();
