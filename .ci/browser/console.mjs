// Drives the operator console like an operator on a desktop: log in, watch a WhatsApp
// conversation appear live (SSE), check that customer text is shown as text and never run,
// take over, reply, hand back, and see the bot answer again. souk runs with WhatsApp
// enabled against a fake Graph API started here, and customer messages arrive as signed
// webhooks. Fails on any page error, console error or HTTP error. Screenshots go to $SHOTS.
import { chromium } from 'playwright-core';
import { spawn, spawnSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { atEverySize } from './sizes.mjs';
import { axeProblems } from './axe.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const bin = process.env.SOUK_BIN ?? path.join(root, 'target/debug/souk');
const config = 'config/souk.toml';
const shots = path.resolve(root, process.env.SHOTS ?? 'target/screenshots');
const APP_SECRET = 'test-app-secret';
const PHONE_ID = '1234567890';
const CUSTOMER = '40712345678';
// Sends to this number fail for good (131026, undeliverable): an admin sees them in Problems.
const UNREACHABLE = '40799999999';
// Markup and a right-to-left override (a name that would read "Dana <b>Test</b> exe.png").
const CUSTOMER_NAME = 'Dana <b>Test</b> \u202Egnp.exe';
const SHOWN_NAME = 'Dana <b>Test</b> ⟦U+202E⟧gnp.exe';
const PASSWORD = 'console-test-password-42';
const REPLY = 'Hello from Ana, how can I help?';
const XSS1 = '<script>window.__xss1=1</script>';
const XSS2 = '<img src=x onerror="window.__xss2=1">';
// A guard against a hang, with room for a loaded CI machine.
const TOTAL_MS = 180000;

const step = (what) => console.log(`console: ${what}`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Polls `predicate` (may be async) until it returns something truthy; throws after `ms`.
async function waitFor(predicate, what, ms = 10000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await predicate();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(100);
  }
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// ---------- fake Graph API: records every POST /{version}/{phone_id}/messages ----------
const recorded = []; // {path, authorization, body}
let graphCount = 0;
const graph = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    if (req.method !== 'POST' || !/^\/[^/]+\/[^/]+\/messages$/.test(req.url)) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end('{"error":{"message":"unknown path","code":100}}');
      return;
    }
    let body;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end('{"error":{"message":"bad json","code":100}}');
      return;
    }
    recorded.push({ path: req.url, authorization: req.headers.authorization ?? '', body });
    const to = String(body.to ?? '');
    if (to === UNREACHABLE) {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end('{"error":{"message":"Message undeliverable","type":"OAuthException","code":131026,"fbtrace_id":"FAKE"}}');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({
      messaging_product: 'whatsapp',
      contacts: [{ input: to, wa_id: to }],
      messages: [{ id: `wamid.FAKE${++graphCount}` }],
    }));
  });
});

// ---------- fake OpenAI-compatible endpoint: readings and translations ----------
// A reading (a request with tools) gets no tool call, so the rules answer as without a model;
// a translation gets "[<Language>] <text>", the language as souk's instructions name it.
const modelRequests = [];
const model = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    let body = {};
    try { body = JSON.parse(Buffer.concat(chunks).toString('utf8')); } catch { /* answered below */ }
    modelRequests.push({ authorization: req.headers.authorization ?? '', body });
    const messages = Array.isArray(body.messages) ? body.messages : [];
    const system = String(messages[0]?.content ?? '');
    const user = String([...messages].reverse().find((m) => m.role === 'user')?.content ?? '');
    const to = (system.match(/into (\w+)\.$/) ?? [])[1] ?? '?';
    const content = body.tools ? '' : `[${to}] ${user}`;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({
      id: 'chatcmpl-console', object: 'chat.completion', created: 1767225600, model: 'fake',
      choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 },
    }));
  });
});

// Bodies the fake Graph API received, from index `since` on.
const graphBodies = (since = 0) => recorded.slice(since).map((r) => r.body);

// ---------- webhooks ----------
function signature(raw) {
  return `sha256=${createHmac('sha256', APP_SECRET).update(raw).digest('hex')}`;
}

let inbound = 0;
function whatsappText(text, from = CUSTOMER, name = CUSTOMER_NAME) {
  return {
    object: 'whatsapp_business_account',
    entry: [{
      id: 'WABA-CONSOLE-TEST',
      changes: [{
        field: 'messages',
        value: {
          messaging_product: 'whatsapp',
          metadata: { display_phone_number: '15550001111', phone_number_id: PHONE_ID },
          contacts: [{ profile: { name }, wa_id: from }],
          messages: [{
            from,
            id: `wamid.IN${++inbound}.${Date.now()}`,
            timestamp: String(Math.floor(Date.now() / 1000)),
            type: 'text',
            text: { body: text },
          }],
        },
      }],
    }],
  };
}

// A web chat customer, driven over its API: places an order awaiting payment; returns the
// session.
async function webChatOrder(base) {
  const json = (r) => r.json();
  const { session } = await fetch(`${base}/chat/api/sessions`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"locale":"en"}',
  }).then(json);
  const say = (body) => fetch(`${base}/chat/api/messages`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ session, ...body }),
  });
  for (const step of [
    { action: 'add:table-lamp' }, { text: '1' }, { action: 'checkout' }, { text: 'Maria Pop' },
    { text: 'maria@example.ro' }, { action: 'delivery' }, { text: 'Str. Lipscani 12, București 030031' },
    { action: 'confirm' },
  ]) {
    await say(step);
    await sleep(300); // one conversation's steps apply in order; this only spaces them out
  }
  return session;
}

// The customer pays on the demo provider's page, through the link the bot sent.
async function payDemo(base, session) {
  const url = await waitFor(async () => {
    const { messages } = await fetch(`${base}/chat/api/history?session=${session}`).then((r) => r.json());
    return (messages ?? []).map((m) => m.link?.url).find((u) => u && u.includes('/pay/'));
  }, 'a payment link', 20000);
  const path = url.slice(url.indexOf('/pay/'));
  const res = await fetch(`${base}${path}`, {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'outcome=pay',
  });
  if (res.status !== 200) throw new Error(`the demo pay page answered ${res.status}`);
  await waitFor(async () => {
    const { messages } = await fetch(`${base}/chat/api/history?session=${session}`).then((r) => r.json());
    return (messages ?? []).some((m) => m.from === 'bot' && (m.text ?? '').includes('Payment received'));
  }, 'the payment confirmed in the chat', 20000);
}

// A web chat customer books the first free time of the first service, taking each button
// from the bot's last reply as the page would.
async function webChatBooking(base) {
  const { session } = await fetch(`${base}/chat/api/sessions`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"locale":"en"}',
  }).then((r) => r.json());
  const say = (body) => fetch(`${base}/chat/api/messages`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ session, ...body }),
  });
  const lastChoice = async (prefix) => waitFor(async () => {
    const { messages } = await fetch(`${base}/chat/api/history?session=${session}`).then((r) => r.json());
    const bot = (messages ?? []).filter((m) => m.from === 'bot');
    const ids = (bot[bot.length - 1]?.choices ?? []).map((c) => c.id);
    return ids.find((id) => id.startsWith(prefix));
  }, `a ${prefix} button`, 20000);
  await say({ action: 'book' });
  await say({ action: await lastChoice('svc:') });
  await say({ action: await lastChoice('day:') });
  await say({ action: await lastChoice('slot:') });
  await sleep(500);
  await say({ text: 'Elena Dobre' });
  await sleep(500);
  await say({ text: '+40 722 000 111' });
  await say({ action: await lastChoice('bconfirm') });
}

async function postWebhook(base, text, from = CUSTOMER, name = CUSTOMER_NAME) {
  const raw = Buffer.from(JSON.stringify(whatsappText(text, from, name)), 'utf8');
  const res = await fetch(`${base}/webhooks/whatsapp`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-hub-signature-256': signature(raw) },
    body: raw,
  });
  if (res.status !== 200) throw new Error(`webhook ${JSON.stringify(text)} answered ${res.status}: ${await res.text()}`);
}

// ---------- souk ----------
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'souk-console-'));
const logLines = [];
let souk = null;
let soukExited = false;
let browser = null;
let page = null;
// What examples/seed_month.rs wrote (its own tally).
let seeded = null;

// The page as it is now at phone, tablet and laptop sizes; sideways scrolling fails the test.
// ...and it has no accessibility violation axe-core can find (WCAG 2.0/2.1 A and AA).
async function everySize(name) {
  const problems = [...await atEverySize(page, shots, name), ...await axeProblems(page, name)];
  if (problems.length) throw new Error(problems.join('\n'));
}

function soukEnv(soukPort, graphPort, modelPort) {
  return {
    ...process.env,
    SOUK__SERVER__LISTEN: `127.0.0.1:${soukPort}`,
    SOUK__STORE__PATH: path.join(tmp, 'data'),
    SOUK__CHANNELS__WHATSAPP__ENABLED: 'true',
    SOUK__CHANNELS__WHATSAPP__APP_SECRET: APP_SECRET,
    SOUK__CHANNELS__WHATSAPP__VERIFY_TOKEN: 'test-verify',
    SOUK__CHANNELS__WHATSAPP__ACCESS_TOKEN: 'test-access-token',
    SOUK__CHANNELS__WHATSAPP__PHONE_NUMBER_ID: PHONE_ID,
    SOUK__CHANNELS__WHATSAPP__API_BASE: `http://127.0.0.1:${graphPort}`,
    SOUK__NLU__PROVIDER: 'openai',
    SOUK__NLU__API_BASE: `http://127.0.0.1:${modelPort}/v1`,
    SOUK__NLU__MODEL: 'fake-model',
    SOUK__NLU__API_KEY: 'sk-console-test',
    RUST_LOG: 'info',
  };
}

function startSouk(env) {
  const child = spawn(bin, ['serve', '--config', config], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const log = fs.createWriteStream(path.join(tmp, 'souk.log'));
  for (const stream of [child.stdout, child.stderr]) {
    let rest = '';
    stream.on('data', (chunk) => {
      log.write(chunk);
      const lines = (rest + chunk.toString('utf8')).split('\n');
      rest = lines.pop();
      logLines.push(...lines);
      if (logLines.length > 2000) logLines.splice(0, logLines.length - 2000);
    });
    stream.on('end', () => { if (rest) logLines.push(rest); });
  }
  child.on('exit', (code, sig) => {
    soukExited = true;
    logLines.push(`[souk exited: ${sig ?? code}]`);
  });
  return child;
}

async function stopSouk() {
  if (!souk || soukExited) return;
  souk.kill('SIGTERM');
  const exited = await Promise.race([
    new Promise((r) => souk.once('exit', () => r(true))),
    sleep(5000).then(() => soukExited),
  ]);
  if (!exited && !soukExited) souk.kill('SIGKILL');
}

async function cleanup() {
  if (browser) await browser.close().catch(() => {});
  await stopSouk();
  graph.close();
  graph.closeAllConnections?.();
  model.close();
  model.closeAllConnections?.();
  fs.rmSync(tmp, { recursive: true, force: true });
}

let failing = false;
async function fail(error) {
  if (failing) return;
  failing = true;
  console.error(`console browser test failed: ${error?.stack ?? error}`);
  if (page) await page.screenshot({ path: `${shots}/console-failure.png` }).catch(() => {});
  console.error(`--- fake Graph API received ${recorded.length} message(s)`);
  for (const r of recorded.slice(-10)) console.error(JSON.stringify(r.body));
  console.error('--- souk log (last 60 lines)');
  console.error(logLines.slice(-60).join('\n'));
  await cleanup().catch(() => {});
  process.exit(1);
}

const guard = setTimeout(() => fail(new Error(`the whole test took over ${TOTAL_MS / 1000} s`)), TOTAL_MS);

// ---------- the test ----------
async function main() {
  fs.mkdirSync(shots, { recursive: true });
  await new Promise((r) => graph.listen(0, '127.0.0.1', r));
  const graphPort = graph.address().port;
  await new Promise((r) => model.listen(0, '127.0.0.1', r));
  const modelPort = model.address().port;
  const soukPort = await freePort();
  const base = `http://127.0.0.1:${soukPort}`;
  const env = soukEnv(soukPort, graphPort, modelPort);

  // A month of activity before today, written into the store first (examples/seed_month.rs):
  // the dashboard must show exactly what it says it wrote.
  const seeding = spawnSync('cargo', ['run', '--quiet', '--example', 'seed_month', '--', path.join(tmp, 'data')],
    { cwd: root, encoding: 'utf8' });
  if (seeding.status !== 0) throw new Error(`seeding a month failed: ${seeding.stderr}`);
  seeded = JSON.parse(seeding.stdout.trim().split('\n').pop());
  step(`a generated month in the store: ${seeding.stdout.trim()}`);

  step(`starting souk on ${base} (fake Graph API on port ${graphPort}); no operator yet`);
  souk = startSouk(env);
  await waitFor(async () => {
    if (soukExited) throw new Error('souk exited before it was ready');
    try {
      return (await fetch(`${base}/readyz`)).status === 200;
    } catch {
      return false;
    }
  }, 'GET /readyz == 200', 20000);

  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const problems = [];
  let promptAnswer = null;
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`page error: ${e}`));
  page.on('response', (r) => { if (r.status() >= 400) problems.push(`${r.status()} ${r.url()}`); });
  page.on('dialog', (d) => {
    // The one dialog the test expects: erasure asks the admin to type the reference.
    if (promptAnswer !== null && d.type() === 'prompt') {
      const answer = promptAnswer;
      promptAnswer = null;
      d.accept(answer).catch(() => {});
      return;
    }
    problems.push(`unexpected dialog: ${d.message()}`);
    d.dismiss().catch(() => {});
  });

  // a. first start: the set-up link souk logged, as a new shop finds it
  step('creating the first admin through the set-up link from the log');
  let setupLink = '';
  await waitFor(async () => {
    const line = logLines.find((l) => l.includes('/console/setup?token='));
    const found = line?.match(/http:\/\/\S+\/console\/setup\?token=[0-9a-f]+/);
    if (found) setupLink = found[0];
    return Boolean(found);
  }, 'the set-up link in the log', 20000);
  await page.goto(setupLink);
  await page.locator('#setup-display-name').fill('Ana Ionescu');
  await page.locator('#setup-name').fill('ana');
  await page.locator('#setup-password').fill(PASSWORD);
  await page.screenshot({ path: `${shots}/console-setup.png` });
  const setupProblems = await axeProblems(page, 'console-setup');
  if (setupProblems.length) throw new Error(setupProblems.join('\n'));
  await page.locator('#setup-submit').click();
  await page.waitForURL((u) => u.pathname === '/console', { timeout: 10000 });
  await page.locator('#conv-list').waitFor({ state: 'visible', timeout: 10000 });
  // The link worked once; log out to walk the login page as an operator would next time.
  await page.locator('#btn-logout').click();
  await page.waitForURL((u) => u.pathname === '/console/login', { timeout: 10000 });

  // b. log in
  step('GET /console without a session goes to the login page');
  await page.goto(`${base}/console`);
  if (new URL(page.url()).pathname !== '/console/login') throw new Error(`expected /console/login, got ${page.url()}`);
  await page.locator('#login-name').fill('ana');
  await page.locator('#login-password').fill(PASSWORD);
  await everySize('console-login');
  await page.locator('#login-submit').click();
  await page.waitForURL((u) => u.pathname === '/console', { timeout: 10000 });
  await page.locator('#conv-list').waitFor({ state: 'visible', timeout: 10000 });
  await page.waitForFunction(() => document.getElementById('live-status')?.textContent.trim() === 'live',
    null, { timeout: 10000 });
  step('logged in; the event stream is live');
  // The team, managed in the page: invite a colleague, get their one-time link.
  await page.locator('#btn-team').click();
  await page.locator('#team-display').fill('Ion Popa');
  await page.locator('#team-login').fill('ion');
  await page.locator('#team-invite').click();
  await page.locator('#team-link code').waitFor({ state: 'visible', timeout: 10000 });
  const inviteLink = (await page.locator('#team-link code').textContent()) ?? '';
  if (!inviteLink.includes('/console/setup?invite=')) throw new Error(`no set-up link for the colleague: ${inviteLink}`);
  await page.waitForFunction(() => [...document.querySelectorAll('#team-list .team-name')]
    .some((n) => n.textContent.includes('Ion Popa')), null, { timeout: 10000 });
  await everySize('console-team');
  await page.locator('#btn-team-close').click();
  step('a colleague was invited from the team dialog');
  // The display name given at set-up is the one the console shows.
  const me = (await page.locator('#me-name').textContent())?.trim();
  if (me !== 'Ana Ionescu') throw new Error(`the header names the operator ${JSON.stringify(me)}, not her display name`);
  await everySize('console-live');

  // c. a new WhatsApp conversation shows up without a reload
  await page.evaluate(() => { window.__sameDocument = true; });
  await postWebhook(base, 'I want to talk to a human');
  const row = page.locator('#conv-list button.conv-row').first();
  await row.waitFor({ state: 'visible', timeout: 10000 });
  if (!(await page.evaluate(() => window.__sameDocument === true))) throw new Error('the page reloaded');
  step(`the conversation appeared live (customer ${await row.getAttribute('data-customer')})`);
  await page.screenshot({ path: `${shots}/console-new-conversation.png` });
  // A customer waiting for a person shows in the tab's title, whichever list is open.
  await page.waitForFunction(() => /^\(1\) /.test(document.title), null, { timeout: 10000 });
  step(`the tab's title counts the waiting customer: ${await page.title()}`);
  await row.click();
  await page.waitForFunction((t) => [...document.querySelectorAll('#timeline p.msg-text')]
    .some((p) => p.textContent === t), 'I want to talk to a human', { timeout: 10000 });

  // d. customer text is text, never markup
  await postWebhook(base, XSS1);
  await postWebhook(base, XSS2);
  await page.waitForFunction((texts) => {
    const got = [...document.querySelectorAll('#timeline p.msg-text')].map((p) => p.textContent);
    return texts.every((t) => got.includes(t));
  }, [XSS1, XSS2], { timeout: 10000 });
  const flags = await page.evaluate(() => [window.__xss1, window.__xss2]);
  if (flags[0] !== undefined || flags[1] !== undefined) throw new Error(`customer text ran as script: ${JSON.stringify(flags)}`);
  const injected = await page.evaluate(() => [...document.querySelectorAll('#timeline img')]
    .filter((i) => i.getAttribute('src') === 'x').length);
  if (injected) throw new Error(`${injected} <img src="x"> element(s) in the timeline`);
  const names = await page.evaluate(() => ({
    head: document.getElementById('conv-name')?.textContent ?? '',
    rows: [...document.querySelectorAll('#conv-list .conv-name')].map((n) => n.textContent),
    bold: document.querySelectorAll('#conv-name b, #conv-list b').length,
    isolated: [document.getElementById('conv-name'), ...document.querySelectorAll('#conv-list .conv-name')]
      .every((n) => n && n.getAttribute('dir') === 'auto'),
  }));
  if (names.head !== SHOWN_NAME || !names.rows.includes(SHOWN_NAME)) {
    throw new Error(`customer name not shown literally with its bidi control visible: ${JSON.stringify(names)}`);
  }
  if (!names.isolated) throw new Error('a customer name is not bidi-isolated (dir=auto)');
  if (names.bold) throw new Error('the customer name was parsed as HTML');
  step('customer text and name are shown as text; nothing ran');
  await page.screenshot({ path: `${shots}/console-untrusted-text.png` });

  // e. take over and reply
  let mark = recorded.length;
  await page.locator('#btn-takeover').click();
  await page.locator('#btn-handback').waitFor({ state: 'visible', timeout: 10000 });
  await waitFor(() => graphBodies(mark).some((b) => JSON.stringify(b).includes('from our team')),
    'the "… from our team is here" message at the Graph API');
  step('taken over; the customer was told an operator joined');
  await everySize('console-takeover');

  mark = recorded.length;
  await page.locator('#reply-text').fill(REPLY);
  await page.locator('#btn-send').click();
  await waitFor(() => graphBodies(mark).some((b) => b.to === CUSTOMER && b.text?.body === REPLY),
    'the operator reply at the Graph API');
  await page.waitForFunction((t) => [...document.querySelectorAll('#timeline .msg-out p.msg-text')]
    .some((p) => p.textContent === t), REPLY, { timeout: 10000 });
  step('the reply went out and is in the timeline');
  await everySize('console-reply');

  // f. hand back; the bot answers again
  mark = recorded.length;
  await page.locator('#btn-handback').click();
  await page.locator('#btn-takeover').waitFor({ state: 'visible', timeout: 10000 });
  await waitFor(() => graphBodies(mark).length > 0, 'a message at the Graph API after the hand back');
  if (!graphBodies(mark).some((b) => JSON.stringify(b).includes('here again'))) {
    step(`note: first message after the hand back: ${JSON.stringify(graphBodies(mark)[0])}`);
  }
  step('handed back to the bot');

  mark = recorded.length;
  await postWebhook(base, 'cart');
  await waitFor(() => graphBodies(mark).some((b) => JSON.stringify(b).includes('empty')),
    'the bot\'s "your cart is empty" answer at the Graph API');
  step('the bot answered "cart" again');
  await page.screenshot({ path: `${shots}/console-handback.png` });

  // Tablet: list and conversation side by side, the customer panel behind a button.
  await page.setViewportSize({ width: 900, height: 1100 });
  await page.locator('#timeline').waitFor({ state: 'visible' });
  await page.locator('#conv-list button.conv-row').first().waitFor({ state: 'visible' });
  await page.locator('#side-panel').waitFor({ state: 'hidden' }); // the drawer slides away
  await page.screenshot({ path: `${shots}/console-tablet.png` });
  step('tablet width shows the list and the conversation');

  // Phone: the conversation alone, with a way back to the list.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.locator('#timeline').waitFor({ state: 'visible' });
  const sideways = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  if (sideways > 1) throw new Error(`the console scrolls sideways at phone width (${sideways}px)`);
  await page.screenshot({ path: `${shots}/console-phone.png` });
  // Back to the list and into the conversation again by keyboard: the focus follows.
  await page.locator('#btn-back').focus();
  await page.keyboard.press('Enter');
  const phoneRow = page.locator('#conv-list .conv-row').first();
  await phoneRow.waitFor({ state: 'visible' });
  await waitFor(async () => page.evaluate(() => document.activeElement?.classList.contains('conv-row')), 'the focus on the row after going back');
  await page.keyboard.press('Enter');
  await waitFor(async () => page.evaluate(() => document.activeElement?.id === 'conv-name'),
    'the focus on the conversation after opening it at phone width');
  step('phone width shows the conversation without sideways scrolling; opening one by keyboard moves the focus to it');

  // An order, opened from the side panel, with the moves it can make.
  await page.setViewportSize({ width: 1280, height: 800 });
  const buyer = await webChatOrder(base);
  await payDemo(base, buyer);
  await page.locator('#filter-all').click();
  const maria = page.locator('#conv-list .conv-row', { hasText: 'Maria Pop' }).first();
  await maria.waitFor({ state: 'visible', timeout: 20000 });
  await maria.click();
  await page.locator('#side-orders button.order-id').first().waitFor({ state: 'visible', timeout: 20000 });
  if (await page.locator('#btn-panel').isVisible()) await page.locator('#btn-panel').click();
  await page.locator('#side-orders button.order-id').first().click();
  await page.locator('#order-moves button').first().waitFor({ state: 'visible', timeout: 10000 });
  const orderText = await page.locator('#order-body').innerText();
  if (!orderText.includes('Table Lamp') || !orderText.includes('Delivery to')) throw new Error(`the order dialog lacks its lines or delivery: ${orderText}`);
  await everySize('console-order');
  step('an order opens from the side panel with its lines, delivery and next moves');

  // It moves on from the dialog: shipped with a tracking link, then a refund is owed; its
  // history says each move, when and by whom.
  await waitFor(async () => (await page.locator('#order-title').innerText()).includes('paid'), 'the order paid');
  await page.locator('#order-moves input.order-tracking').fill('https://carrier.example/t/42');
  await page.locator('#order-moves button', { hasText: 'Mark shipped' }).click();
  await waitFor(async () => (await page.locator('#notice').innerText()).includes('shipped'), 'the shipped notice');
  await page.locator('#side-orders button.order-id').first().click();
  await page.locator('#order-moves button', { hasText: 'Refund needed' }).click();
  await waitFor(async () => (await page.locator('#notice').innerText()).includes('refund needed'), 'the refund notice');
  await page.locator('#side-orders button.order-id').first().click();
  await page.locator('#order-moves button', { hasText: 'Mark refunded' }).waitFor({ state: 'visible', timeout: 10000 });
  const history = await page.locator('#order-body .order-history').innerText();
  for (const word of ['Placed', 'Paid', 'Shipped', 'Refund needed', 'carrier.example/t/42']) {
    if (!history.includes(word)) throw new Error(`the order's history lacks "${word}": ${history}`);
  }
  await everySize('console-order-history');
  await page.locator('#btn-order-close').click();
  step('an order is shipped and marked for a refund from the console; its history shows each move');

  // An appointment in the side panel: the service on its own line, then when and with whom.
  await webChatBooking(base);
  const elena = page.locator('#conv-list .conv-row', { hasText: 'Elena Dobre' }).first();
  await elena.waitFor({ state: 'visible', timeout: 20000 });
  await elena.click();
  await page.locator('#side-bookings .booking-service').first().waitFor({ state: 'visible', timeout: 20000 });
  const lines = await page.evaluate(() => {
    const service = document.querySelector('#side-bookings .booking-service');
    const when = service?.nextElementSibling;
    return service && when ? [service.getBoundingClientRect().top, when.getBoundingClientRect().top] : null;
  });
  if (!lines || !(lines[1] > lines[0])) throw new Error(`the appointment's service and time share a line: ${JSON.stringify(lines)}`);
  await everySize('console-appointment');
  step('an appointment shows its service above its time');

  // The shop's numbers over the generated month: exactly what the generator wrote, per
  // day and per week, for every channel and for one.
  await page.locator('#btn-numbers').click();
  // The dialog loads the last 30 days first (and then fills the range in): wait for it.
  await waitFor(async () => (await page.locator('#numbers-from').inputValue()) !== '', 'the first load of the numbers');
  await page.locator('#numbers-from').fill(seeded.from);
  await page.locator('#numbers-to').fill(seeded.to);
  await page.locator('#numbers-show').click();
  const expect = [
    ['Conversations', seeded.conversations],
    ['Paid orders', seeded.paid_orders],
    ['Recovered by reminders', seeded.recovered_orders],
    ['Hand-offs to a person', seeded.handoffs],
    ['First reply from the team', seeded.first_response_avg_minutes],
    ['Resolved \\(handed back\\)', seeded.resolutions],
  ];
  const monthOk = (text) => expect.every(([label, n]) => new RegExp(`${label}\\s+${n}\\b`).test(text));
  await waitFor(async () => monthOk(await page.locator('#numbers-totals').innerText()),
    `the generated month's totals ${JSON.stringify(seeded)}`).catch(async (e) => {
    throw new Error(`${e.message}; the page shows: ${await page.locator('#numbers-totals').innerText()}`);
  });
  const bars = async (chart) => page.locator(`${chart} svg rect.bar`).count();
  if ((await bars('#numbers-conversations')) !== 30) throw new Error(`${await bars('#numbers-conversations')} bars for 30 days`);
  if ((await bars('#numbers-response')) !== 30) throw new Error('no bar per day of first-reply minutes');
  await everySize('console-numbers-month');
  await page.locator('#numbers-by').selectOption('week');
  await waitFor(async () => [5, 6].includes(await bars('#numbers-conversations')), 'a bar per week');
  await page.locator('#numbers-channel').selectOption('whatsapp');
  await waitFor(async () => new RegExp(`Conversations\\s+${seeded.by_channel.whatsapp}\\b`)
    .test(await page.locator('#numbers-totals').innerText()), 'the WhatsApp numbers');
  await everySize('console-numbers-weekly-whatsapp');
  await page.locator('#numbers-by').selectOption('day');
  await page.locator('#numbers-channel').selectOption('all');
  step('the dashboard shows the generated month exactly, per day and per week, for all channels and for WhatsApp');

  // The shop's numbers: totals, a chart of each day drawn in the page, the channels.
  await page.waitForFunction(() => document.querySelectorAll('#numbers-conversations svg rect.bar').length >= 28,
    null, { timeout: 10000 });
  // Appointments count on their own day, which may be tomorrow: the range runs a week on.
  const weekOn = new Date(Date.now() + 7 * 86400000).toISOString().slice(0, 10);
  const monthAgo = new Date(Date.now() - 29 * 86400000).toISOString().slice(0, 10);
  await page.locator('#numbers-from').fill(monthAgo);
  await page.locator('#numbers-to').fill(weekOn);
  await page.locator('#numbers-show').click();
  await page.waitForFunction(() => /Appointments\s+1/.test(document.getElementById('numbers-totals')?.innerText ?? ''),
    null, { timeout: 10000 }).catch(() => {});
  const totals = await page.locator('#numbers-totals').innerText();
  const paid = Number((totals.match(/Paid orders\s+(\d+)/) ?? [])[1] ?? 0);
  if (paid < 1 || !/Appointments\s+1/.test(totals)) throw new Error(`the numbers lack the paid order or the appointment: ${totals}`);
  await everySize('console-numbers');
  await page.locator('#btn-numbers-close').click();
  step(`the shop's numbers show the paid order and the appointment with a chart per day`);

  // A Romanian customer: the operator reads them in English and answers in Romanian.
  const ROMANIAN = '40733333333';
  await postWebhook(base, 'bună ziua, aveți geci de ploaie?', ROMANIAN, 'Ioana Pop');
  const ioana = page.locator('#conv-list .conv-row', { hasText: 'Ioana Pop' }).first();
  await ioana.waitFor({ state: 'visible', timeout: 20000 });
  await ioana.click();
  const translated = '[English] bună ziua, aveți geci de ploaie?';
  await page.waitForFunction((t) => [...document.querySelectorAll('#timeline p.translation')]
    .some((p) => p.textContent === `Translated from ro: ${t}` && p.lang === 'en'), translated, { timeout: 20000 });
  step('a Romanian message is shown translated into the operator\'s English beside the original');
  // An admin exports what souk holds on the customer from the side panel.
  if (await page.locator('#btn-panel').isVisible()) await page.locator('#btn-panel').click();
  await page.locator('#export-json').waitFor({ state: 'visible', timeout: 10000 });
  const exported = await page.evaluate(async () => {
    const res = await fetch(document.getElementById('export-json').href);
    return { status: res.status, body: await res.json() };
  });
  if (exported.status !== 200 || exported.body.format !== 'souk-customer-export/1'
      || !JSON.stringify(exported.body.history).includes('aveți geci de ploaie')) {
    throw new Error(`the export link gave ${exported.status}: ${JSON.stringify(exported.body).slice(0, 300)}`);
  }
  step('an admin downloads the customer\'s data from the side panel');
  await page.locator('#btn-takeover').click();
  await page.locator('#btn-handback').waitFor({ state: 'visible', timeout: 10000 });
  await page.locator('#translate-row').waitFor({ state: 'visible', timeout: 10000 });
  await page.locator('#translate-reply').check();
  mark = recorded.length;
  const answer = 'Yes, we have a navy rain jacket.';
  await page.locator('#reply-text').fill(answer);
  await page.locator('#btn-send').click();
  await waitFor(() => graphBodies(mark).some((b) => b.to === ROMANIAN && b.text?.body === `[Romanian] ${answer}`),
    'the reply in Romanian at the Graph API');
  await page.waitForFunction((t) => [...document.querySelectorAll('#timeline .msg-out p.original')]
    .some((p) => p.textContent === `Written as: ${t}`), answer, { timeout: 10000 });
  await everySize('console-translated');
  step('the reply went out translated into Romanian; the console keeps what the operator wrote');
  if (modelRequests.some((r) => r.authorization !== 'Bearer sk-console-test')) {
    problems.push('a model request without the API key');
  }

  // The consent the customer gave (or not) is in the side panel.
  const consentText = await page.locator('#side-consent').innerText();
  if (!consentText.startsWith('Cart reminders:')) throw new Error(`no consent in the side panel: ${consentText}`);
  // The team dialog lists who viewed, exported and took over what.
  await page.locator('#btn-team').click();
  await page.waitForFunction(() => {
    const text = document.getElementById('team-activity')?.innerText ?? '';
    return text.includes('ana viewed') && text.includes('ana took over') && text.includes('ana exported');
  }, null, { timeout: 10000 });
  await page.locator('#btn-team-close').click();
  step('consent shows in the side panel; recent activity (the audit log) in the team dialog');

  // A reply WhatsApp refuses for good shows up for the admin under Problems, with the reason.
  await postWebhook(base, 'hello?', UNREACHABLE, 'Radu Unreachable');
  const problemsBtn = page.locator('#btn-set-aside');
  await problemsBtn.waitFor({ state: 'visible', timeout: 20000 });
  await waitFor(async () => /Problems \(\d+\)/.test(await problemsBtn.innerText()), 'the problems count');
  await problemsBtn.click();
  await page.locator('#dead-list li').first().waitFor({ state: 'visible', timeout: 10000 });
  const deadText = await page.locator('#dead-list').innerText();
  if (!deadText.includes('131026') || !deadText.includes('Radu Unreachable')) throw new Error(`the failed reply lacks its reason: ${deadText}`);
  await everySize('console-problems');
  await page.locator('#dead-list li button', { hasText: 'Open conversation' }).first().click();
  await page.locator('#conv-name', { hasText: 'Radu Unreachable' }).waitFor({ state: 'visible', timeout: 10000 });
  step('a reply WhatsApp refused is listed under Problems with its reason, and opens its conversation');

  // An admin erases Ioana from the side panel, typing her reference to confirm; she is told
  // in Romanian and her conversation leaves the list.
  await page.locator('#conv-list .conv-row', { hasText: 'Ioana Pop' }).first().click();
  await page.locator('#conv-name', { hasText: 'Ioana Pop' }).waitFor({ state: 'visible', timeout: 10000 });
  if (await page.locator('#btn-panel').isVisible()) await page.locator('#btn-panel').click();
  const reference = await page.evaluate(async () => {
    const id = decodeURIComponent(location.hash.slice(1));
    const res = await fetch(`/console/api/conversations/${encodeURIComponent(id)}`);
    return (await res.json()).summary.reference;
  });
  mark = recorded.length;
  promptAnswer = reference;
  await page.locator('#erase-customer').click();
  await page.locator('#notice', { hasText: 'erased' }).waitFor({ state: 'visible', timeout: 20000 });
  await waitFor(() => graphBodies(mark).some((b) => b.to === ROMANIAN && (b.text?.body ?? '').startsWith('Datele tale au fost șterse')),
    'the last message, in Romanian, at the Graph API');
  await waitFor(async () => (await page.locator('#conv-list .conv-row', { hasText: 'Ioana Pop' }).count()) === 0,
    'the erased conversation gone from the list');
  if (!(await page.locator('#side-body').isHidden())) throw new Error('the erased customer still shows in the side panel');
  await page.screenshot({ path: `${shots}/console-erased.png` });
  step('an admin erased a customer from the side panel (reference typed to confirm); she was told in Romanian');

  // Keyboard only: the shortcuts dialog keeps Tab inside and can turn single keys off; then
  // an operator finds a conversation, takes it over, replies and hands it back without a
  // mouse, the focus checked after each step.
  const focused = () => page.evaluate(() => {
    const a = document.activeElement;
    return { id: a?.id ?? '', cls: a?.className ?? '', text: (a?.textContent ?? '').trim().slice(0, 80), tag: a?.tagName ?? '' };
  });
  await page.locator('#search').focus();
  await page.keyboard.press('Escape');
  await page.keyboard.press('?');
  await page.locator('#help').waitFor({ state: 'visible' });
  const helpProblems = await axeProblems(page, 'console-shortcuts');
  if (helpProblems.length) throw new Error(helpProblems.join('\n'));
  for (let i = 0; i < 6; i++) {
    await page.keyboard.press('Tab');
    const inside = await page.evaluate(() => document.getElementById('help').contains(document.activeElement));
    if (!inside) throw new Error(`Tab left the shortcuts dialog: ${JSON.stringify(await focused())}`);
  }
  await page.locator('#shortcuts-on').focus();
  await page.keyboard.press('Space');
  await page.keyboard.press('Escape');
  await page.locator('#help').waitFor({ state: 'hidden' });
  await page.locator('body').focus();
  await page.keyboard.press('/');
  if ((await focused()).id === 'search') throw new Error('"/" still worked with single-key shortcuts off');
  await page.keyboard.press('?');
  // Expected not to open: a short wait, not the default 30 s a passing run would spend here.
  await page.locator('#help').waitFor({ state: 'visible', timeout: 1500 }).catch(() => {});
  if (await page.locator('#help').isVisible()) throw new Error('"?" still worked with single-key shortcuts off');
  // Back on, from the header's "?" button.
  await page.locator('#btn-help').click();
  await page.locator('#shortcuts-on').check();
  await page.keyboard.press('Escape');
  step('the shortcuts dialog keeps the keyboard inside it and single-key shortcuts can be turned off');

  const KEYS = '40744444444';
  await postWebhook(base, 'hello, can a person help me?', KEYS, 'Kim Keys');
  await page.locator('#conv-list .conv-row', { hasText: 'Kim Keys' }).first().waitFor({ state: 'visible', timeout: 20000 });
  await page.locator('body').focus();
  await page.keyboard.press('/');
  if ((await focused()).id !== 'search') throw new Error(`"/" did not focus the search: ${JSON.stringify(await focused())}`);
  await page.keyboard.type('Kim');
  await waitFor(async () => (await page.locator('#conv-list .conv-row').count()) === 1, 'the search to leave one row');
  await page.keyboard.press('Tab');
  let f = await focused();
  if (!f.cls.includes('conv-row') || !f.text.includes('Kim Keys')) throw new Error(`Tab from the search is not on Kim's row: ${JSON.stringify(f)}`);
  await page.keyboard.press('Enter');
  await page.locator('#conv-name', { hasText: 'Kim Keys' }).waitFor({ state: 'visible', timeout: 10000 });
  // "t" on a list row does not take over; the skip link leads to the conversation.
  await page.keyboard.press('t');
  await page.waitForTimeout(300);
  if (!(await page.locator('#btn-takeover').isVisible())) throw new Error('"t" took over from a list row');
  await page.keyboard.press('Tab');
  f = await focused();
  if (f.id !== 'skip-to-conversation') throw new Error(`no skip link after the list: ${JSON.stringify(f)}`);
  await page.keyboard.press('Enter');
  if ((await focused()).id !== 'conv-name') throw new Error(`the skip link did not reach the conversation: ${JSON.stringify(await focused())}`);
  for (let i = 0; i < 4 && (await focused()).id !== 'btn-takeover'; i++) await page.keyboard.press('Tab');
  if ((await focused()).id !== 'btn-takeover') throw new Error(`Take over is not next: ${JSON.stringify(await focused())}`);
  await page.keyboard.press('Enter');
  await page.locator('#btn-handback').waitFor({ state: 'visible', timeout: 10000 });
  await waitFor(async () => (await focused()).id === 'reply-text', 'the focus in the reply box after taking over');
  mark = recorded.length;
  // The timeline is a live region: the reply adds exactly one item (its delivery status is
  // patched in place, not re-added).
  await page.evaluate(() => {
    window.__timelineAdded = 0;
    new MutationObserver((records) => {
      for (const r of records) window.__timelineAdded += r.addedNodes.length;
    }).observe(document.getElementById('timeline'), { childList: true });
  });
  await page.keyboard.type('Hello Kim, this is Ana.');
  await page.keyboard.press('Enter');
  await waitFor(() => graphBodies(mark).some((b) => b.to === KEYS && b.text?.body === 'Hello Kim, this is Ana.'), "the keyboard reply at the Graph API");
  await page.waitForFunction(() => [...document.querySelectorAll('#timeline .msg-out')]
    .some((m) => m.textContent.includes('Hello Kim, this is Ana.') && /sent|delivered/i.test(m.querySelector('.msg-status')?.textContent ?? '')),
    null, { timeout: 10000 });
  const timelineAdded = await page.evaluate(() => window.__timelineAdded);
  if (timelineAdded !== 1) throw new Error(`the reply added ${timelineAdded} items to the timeline, not one`);
  if ((await focused()).id !== 'reply-text') throw new Error(`the focus left the reply box after sending: ${JSON.stringify(await focused())}`);
  for (let i = 0; i < 15 && (await focused()).id !== 'btn-handback'; i++) await page.keyboard.press('Shift+Tab');
  if ((await focused()).id !== 'btn-handback') throw new Error(`Hand back is not reachable backwards from the reply box: ${JSON.stringify(await focused())}`);
  await page.keyboard.press('Enter');
  await page.locator('#btn-takeover').waitFor({ state: 'visible', timeout: 10000 });
  await waitFor(async () => (await focused()).id === 'btn-takeover', 'the focus on Take over after handing back');
  await everySize('console-keyboard');
  step('keyboard only: found, opened, taken over, replied and handed back, the focus where it should be at each step');

  if (recorded.some((r) => r.authorization !== 'Bearer test-access-token')) {
    problems.push(`a Graph API call without the access token: ${recorded.map((r) => r.authorization).join(', ')}`);
  }
  if (problems.length) throw new Error(`problems in the page:\n${problems.join('\n')}`);
}

try {
  await main();
  clearTimeout(guard);
  await cleanup();
  console.log(`console browser test passed; screenshots in ${shots}`);
} catch (e) {
  clearTimeout(guard);
  await fail(e);
}
