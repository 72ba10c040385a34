// Drives the web chat like a customer on a phone: welcome, browse, add to cart, view the
// cart, search in words ("red dress under 300"), check out, pay on the demo provider's page
// and see the confirmation arrive in the chat, switch to Hebrew. Fails on any console error.
// Screenshots go to $SHOTS.
import { chromium } from 'playwright-core';
import { atEverySize } from './sizes.mjs';
import { axeProblems } from './axe.mjs';

const base = process.env.SOUK_URL ?? 'http://127.0.0.1:18080';
const shots = process.env.SHOTS ?? '.';
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
         '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const page = await browser.newPage({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2 });
const problems = [];
page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
page.on('pageerror', (e) => problems.push(String(e)));
page.on('response', (r) => { if (r.status() >= 400) problems.push(`${r.status()} ${r.url()}`); });

const lastBot = () => page.locator('.msg.bot').last();
async function press(label) {
  await lastBot().getByRole('button', { name: label, exact: false }).first().click();
}

await page.goto(`${base}/chat`);
await page.locator('.msg.bot').first().waitFor({ timeout: 15000 });
await press('Browse');
await page.locator('.msg.bot .choices button').nth(3).waitFor();
await press('Coffee');
await page.locator('.msg.bot .card').first().waitFor();
await page.waitForTimeout(500); // let images decode before the picture
await lastBot().locator('.cards').screenshot({ path: `${shots}/product-cards.png` });
problems.push(...await atEverySize(page, shots, 'product-cards'));
problems.push(...await axeProblems(page, 'chat with product cards'));
await lastBot().locator('.card').first().getByRole('button', { name: 'Add to cart' }).click();
await page.waitForFunction(() => document.querySelectorAll('.msg.bot').length >= 4);
await press('250');
await page.waitForFunction(() => [...document.querySelectorAll('.msg.bot .choices button')].some((b) => b.textContent.trim() === '2'));
await lastBot().getByRole('button', { name: '2', exact: true }).click();
await page.waitForFunction(() => document.querySelector('.msg.bot:last-of-type')?.textContent.includes('Added'));
await page.locator('.top [data-action="cart"]').click();
await page.locator('.msg.bot .cart').last().waitFor();
const cartText = await page.locator('.msg.bot .cart').last().innerText();
if (!cartText.includes('2')) problems.push(`cart does not show quantity 2: ${cartText}`);
problems.push(...await atEverySize(page, shots, 'cart'));
problems.push(...await axeProblems(page, 'chat with the cart'));

// Search in words, add the red dress, check out and pay on the demo payment page.
const say = async (text) => {
  await page.locator('#input').fill(text);
  await page.locator('#input').press('Enter');
};
const botSays = (needle) => page.waitForFunction(
  (n) => [...document.querySelectorAll('.msg.bot')].some((m) => m.textContent.includes(n)),
  needle, { timeout: 15000 });
await say('red dress under 300');
await botSays('Evening Dress');
// One match: its details, with "Add to cart" among the choices.
await press('Add to cart');
await page.waitForFunction(() => [...document.querySelectorAll('.msg.bot:last-of-type button')].some((b) => b.textContent.includes('M / Red')));
await press('M / Red');
await page.waitForFunction(() => [...document.querySelectorAll('.msg.bot:last-of-type .choices button')].some((b) => b.textContent.trim() === '1'));
await lastBot().getByRole('button', { name: '1', exact: true }).click();
await botSays('Added');
await press('Checkout');
await botSays('What name');
await say('Dana Pop');
await botSays('Thanks, Dana Pop');
await say('dana@example.ro');
await botSays('How would you like to get your order');
await press('Delivery');
await botSays('Where should we deliver');
await say('Lipscani street');
await botSays("doesn't look like a full address");
await say('Str. Lipscani 12, Bucharest 030031');
await botSays('Delivery to: Str. Lipscani 12, Bucharest 030031');
await page.waitForFunction(() => [...document.querySelectorAll('.msg.bot:last-of-type button')].some((b) => b.textContent.includes('Place order')));
await press('Place order');
await page.locator('.msg.bot a.link-btn').last().waitFor({ timeout: 15000 });
problems.push(...await axeProblems(page, 'checkout with the payment link'));
const payLink = page.locator('.msg.bot a.link-btn').last();
await payLink.waitFor({ timeout: 15000 });
const [payPage] = await Promise.all([page.context().waitForEvent('page'), payLink.click()]);
await payPage.waitForLoadState();
payPage.on('response', (r) => { if (r.status() >= 400) problems.push(`${r.status()} ${r.url()}`); });
const payText = await payPage.locator('body').innerText();
if (!payText.includes('Evening Dress') || !payText.includes('189')) problems.push(`pay page lacks the order: ${payText}`);
await payPage.screenshot({ path: `${shots}/pay-page.png` });
problems.push(...await axeProblems(payPage, 'the pay page'));
await payPage.getByRole('button', { name: 'Pay', exact: false }).first().click();
await payPage.waitForLoadState();
if (!(await payPage.locator('body').innerText()).includes('is paid')) problems.push('pay page did not confirm');
await payPage.close();
await botSays('Payment received');
problems.push(...await atEverySize(page, shots, 'paid'));

// Booking in words, as the README shows it: the times offered, the price and deposit said
// before confirming, and "Cancel booking" asking first.
await say('book an alteration tomorrow afternoon');
await page.waitForFunction(() => [...document.querySelectorAll('.msg.bot:last-of-type .choices button')]
  .some((b) => /\d\d:\d\d/.test(b.textContent)), null, { timeout: 15000 });
problems.push(...await atEverySize(page, shots, 'booking-times'));
await page.locator('.msg.bot').last().locator('.choices button').first().click();
// The name and contact given at checkout are used again; asked only if they were not.
const lastBotText = () => page.evaluate(() => document.querySelector('.msg.bot:last-of-type')?.textContent ?? '');
const next = await page.waitForFunction(() => {
  const t = document.querySelector('.msg.bot:last-of-type')?.textContent ?? '';
  return t.includes('name should the booking') ? 'name' : t.includes('Shall I book it') ? 'confirm' : '';
}, null, { timeout: 15000 }).then((h) => h.jsonValue());
if (next === 'name') {
  await say('Dana Pop');
  await botSays('can we reach you on');
  await say('dana@example.ro');
}
await botSays('Shall I book it');
if (!(await page.locator('.msg.bot').allInnerTexts()).some((t) => t.includes('deposit of'))) {
  problems.push(`the deposit was not said before confirming: ${await lastBotText()}`);
}
problems.push(...await atEverySize(page, shots, 'booking-confirm'));
problems.push(...await axeProblems(page, 'booking summary'));
await press('Book it');
await botSays('Booked!');
// The deposit's payment link follows "Booked!"; its buttons are on the "Booked!" message.
await page.locator('.msg.bot', { hasText: 'Booked!' }).last()
  .getByRole('button', { name: 'Cancel booking' }).click();
await botSays('Cancel your booking');
problems.push(...await atEverySize(page, shots, 'booking-cancel-ask'));
await press('No, keep it');

await page.locator('#input').fill('עברית');
await page.locator('#input').press('Enter');
await page.waitForFunction(() => document.documentElement.dir === 'rtl', null, { timeout: 10000 });
// The page's own labels speak the conversation's language too (they stayed English).
await page.waitForFunction(() => document.documentElement.lang === 'he', null, { timeout: 10000 });
const chrome = await page.evaluate(() => ({
  menu: document.querySelector('.top [data-action="menu"]')?.textContent.trim(),
  cart: document.querySelector('.top [data-action="cart"]')?.textContent.trim(),
  send: document.querySelector('button.send')?.textContent.trim(),
  placeholder: document.getElementById('input')?.placeholder,
}));
const hebrew = /[\u05d0-\u05ea]/;
for (const [name, text] of Object.entries(chrome)) {
  if (!hebrew.test(text ?? '')) problems.push(`the page's ${name} is not in Hebrew: ${text}`);
}
await press('');
await page.waitForTimeout(800);
await page.screenshot({ path: `${shots}/hebrew.png` });
problems.push(...await axeProblems(page, 'the chat in Hebrew'));
// The same conversation at tablet and laptop widths.
for (const [name, width, height] of [['tablet', 820, 1180], ['laptop', 1366, 800]]) {
  await page.setViewportSize({ width, height });
  await page.waitForTimeout(300);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  if (overflow > 1) problems.push(`the chat scrolls sideways at ${width}px (${overflow}px)`);
  await page.screenshot({ path: `${shots}/hebrew-${name}.png` });
}

// Keyboard only, in a fresh visit: search, add to cart, check out and reach the payment
// link. The focus is checked after every step: it stays where the customer types, and a
// pressed button's reply takes it to the reply's first button.
{
  const kb = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  kb.on('pageerror', (e) => problems.push(String(e)));
  const focused = () => kb.evaluate(() => {
    const a = document.activeElement;
    const msg = a?.closest('.msg');
    return {
      id: a?.id ?? '', tag: a?.tagName ?? '', text: (a?.textContent ?? '').trim(),
      label: a?.getAttribute('aria-label') ?? '',
      newest: !!msg && msg === [...document.querySelectorAll('.msg.bot')].pop(),
      href: a?.getAttribute('href') ?? '',
    };
  });
  const expectFocus = async (what, check) => {
    const f = await focused();
    if (!check(f)) throw new Error(`keyboard: ${what}, but the focus is on ${JSON.stringify(f)}`);
  };
  // The newest reply says `needle`, and the shop has finished answering (typing gone, no
  // further reply for a moment): a reply may come in more than one message.
  const botSaysKb = async (needle) => {
    await kb.waitForFunction(
      (n) => [...document.querySelectorAll('.msg.bot')].some((m) => m.textContent.includes(n)), needle, { timeout: 15000 });
    let count = -1;
    for (let i = 0; i < 50; i++) {
      const now = await kb.evaluate(() => document.getElementById('typing').hidden ? document.querySelectorAll('.msg.bot').length : -1);
      if (now >= 0 && now === count) return;
      count = now;
      await kb.waitForTimeout(300);
    }
  };
  // Tabs (backwards or on) until a control of the newest reply whose words include `name`.
  const reach = async (name, back = true) => {
    for (let i = 0; i < 12; i++) {
      await kb.keyboard.press(back ? 'Shift+Tab' : 'Tab');
      const f = await focused();
      if ((f.text + f.label).includes(name)) {
        if (!f.newest) {
          const bots = await kb.evaluate(() => [...document.querySelectorAll('.msg.bot')].slice(-3).map((m) => m.textContent.slice(0, 120)));
          throw new Error(`keyboard: "${name}" reached on an older reply; the last replies: ${JSON.stringify(bots)}`);
        }
        return i + 1;
      }
    }
    throw new Error(`keyboard: "${name}" not reached in 12 presses`);
  };
  await kb.goto(`${base}/chat`);
  await kb.locator('.msg.bot').first().waitFor({ timeout: 15000 });
  await expectFocus('the message box has the focus on arrival', (f) => f.id === 'input');
  await kb.keyboard.type('red dress under 300');
  await kb.keyboard.press('Enter');
  await botSaysKb('Evening Dress');
  await expectFocus('typing keeps the focus in the message box', (f) => f.id === 'input');
  const presses = await reach('Add to cart');
  await kb.keyboard.press('Enter');
  await botSaysKb('M / Red');
  await expectFocus("the reply's first button after pressing one", (f) => f.newest && f.tag === 'BUTTON');
  await reach('M / Red', false);
  await kb.keyboard.press('Enter');
  await botSaysKb('How many');
  await expectFocus('the quantities, first one focused', (f) => f.newest && f.text === '1');
  await kb.keyboard.press('Enter');
  await botSaysKb('Added');
  await reach('Checkout', false);
  await kb.keyboard.press('Enter');
  await botSaysKb('What name');
  // Answers are typed: the message box is a Tab or two on.
  for (let i = 0; i < 8 && (await focused()).id !== 'input'; i++) await kb.keyboard.press('Tab');
  await expectFocus('the message box for the name', (f) => f.id === 'input');
  for (const [typed, next] of [['Kim Keys', 'Thanks, Kim Keys'], ['kim@example.ro', 'How would you like to get your order']]) {
    await kb.keyboard.type(typed);
    await kb.keyboard.press('Enter');
    await botSaysKb(next);
    await expectFocus(`the focus stays in the message box after "${typed}"`, (f) => f.id === 'input');
  }
  await reach('Delivery');
  await kb.keyboard.press('Enter');
  await botSaysKb('Where should we deliver');
  for (let i = 0; i < 8 && (await focused()).id !== 'input'; i++) await kb.keyboard.press('Tab');
  await kb.keyboard.type('Str. Lipscani 12, Bucharest 030031');
  await kb.keyboard.press('Enter');
  await botSaysKb('Delivery to:');
  await reach('Place order');
  await kb.keyboard.press('Enter');
  await kb.locator('.msg.bot a.link-btn').last().waitFor({ timeout: 15000 });
  await waitForFocusOnLink();
  async function waitForFocusOnLink() {
    for (let i = 0; i < 50; i++) {
      const f = await focused();
      if (f.tag === 'A' && f.href.includes('/pay/')) return;
      await kb.waitForTimeout(100);
    }
    throw new Error(`keyboard: the payment link did not get the focus: ${JSON.stringify(await focused())}`);
  }
  console.log(`keyboard: searched, added (Add to cart ${presses} Shift+Tab away), checked out and reached the payment link`);

  // The log is a live region: a reconnect adds nothing, a new message adds exactly its own.
  await kb.evaluate(() => {
    window.__added = 0;
    new MutationObserver((records) => {
      for (const r of records) window.__added += r.addedNodes.length;
    }).observe(document.getElementById('messages'), { childList: true });
    window.__before = [...document.querySelectorAll('#messages > *')];
  });
  let streams = 0;
  kb.on('request', (r) => { if (r.url().includes('/chat/api/events')) streams += 1; });
  const cdp = await kb.context().newCDPSession(kb);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', { offline: true, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
  await kb.waitForTimeout(1500);
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
  // The stream comes back (the browser or the page reopens it) with the history first.
  await kb.waitForTimeout(4000);
  const afterReconnect = await kb.evaluate(() => ({
    added: window.__added,
    same: window.__before.every((n) => n.isConnected),
    count: document.querySelectorAll('#messages > *').length,
  }));
  if (streams < 1) problems.push('the stream did not reconnect after the network came back');
  if (afterReconnect.added !== 0 || !afterReconnect.same) {
    problems.push(`a reconnect changed the log: ${JSON.stringify(afterReconnect)}`);
  }
  await kb.locator('#input').fill('cart');
  await kb.locator('#input').press('Enter');
  await kb.waitForFunction(() => window.__added >= 2, null, { timeout: 15000 });
  await kb.waitForTimeout(1000);
  const added = await kb.evaluate(() => window.__added);
  if (added !== 2) problems.push(`a message added ${added} items to the log, not its own two`);
  console.log(`live region: a reconnect (${streams} new stream request(s)) added ${afterReconnect.added} items, a new message ${added}`);
  await kb.close();
}

await browser.close();
if (problems.length) {
  console.error('browser smoke test failed:\n' + problems.join('\n'));
  process.exit(1);
}
console.log(`browser smoke test passed; screenshots in ${shots}`);
