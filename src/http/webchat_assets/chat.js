/* Souk web chat — plain DOM, no framework, no build step.
 * Everything from the server (shop data, customer text) is untrusted:
 * the DOM is built with createElement/textContent only, never innerHTML. */
(() => {
  'use strict';

  const API = '/chat/api';
  const STORE_KEY = 'souk.session';
  const FALLBACK_SHOP = 'Souk Demo Store';
  const TYPING_TIMEOUT_MS = 10000;
  const CLICK_COOLDOWN_MS = 1500;

  const list = document.getElementById('messages');
  const form = document.getElementById('composer');
  const input = document.getElementById('input');
  const errorLine = document.getElementById('error');
  const typing = document.getElementById('typing');

  const rendered = new Set(); // ids on screen: history and the SSE stream overlap
  let session = null;
  let events = null;
  let starting = null; // in-flight startSession(), shared by concurrent callers
  let typingTimer = 0;

  // ---------- the page's own labels, in the conversation's language ----------
  const labelsElement = document.getElementById('labels');
  let LABELS = {};
  try { LABELS = JSON.parse(labelsElement ? labelsElement.textContent : '{}') || {}; } catch { LABELS = {}; }
  const RTL = new Set(['he', 'ar', 'fa', 'ur']);
  let pageLang = '';
  const label = (name) => str((LABELS[pageLang] || LABELS.en || {})[name]);

  // Sets every label, the placeholder, the page's lang and direction; called with the
  // browser's language at start and with each reply's language (the customer may switch).
  function applyLanguage(lang) {
    const code = str(lang).slice(0, 2).toLowerCase();
    const chosen = LABELS[code] ? code : (LABELS[pageLang] ? pageLang : (labelsElement?.dataset.defaultLang || 'en'));
    if (chosen === pageLang) return;
    pageLang = chosen;
    document.documentElement.lang = chosen;
    document.documentElement.dir = RTL.has(chosen) ? 'rtl' : 'ltr';
    for (const node of document.querySelectorAll('[data-label]')) {
      const text = label(node.dataset.label);
      if (text) node.textContent = text;
    }
    for (const node of document.querySelectorAll('[data-label-aria]')) {
      const text = label(node.dataset.labelAria);
      if (text) node.setAttribute('aria-label', text);
    }
    const placeholder = label('placeholder');
    if (placeholder) input.placeholder = placeholder;
  }

  // ---------- helpers ----------
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  const str = (v) => (typeof v === 'string' ? v : v == null ? '' : String(v));
  const arr = (v) => (Array.isArray(v) ? v : []);

  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text != null) node.textContent = str(text);
    return node;
  }

  // Only http(s) URLs (absolute, or relative = same origin); rejects javascript:, data:, etc.
  function safeUrl(raw) {
    if (typeof raw !== 'string' || !raw.trim()) return null;
    try {
      const u = new URL(raw, location.href);
      return u.protocol === 'https:' || u.protocol === 'http:' ? u.href : null;
    } catch { return null; }
  }

  // localStorage can throw (privacy modes); then the session simply lives in memory.
  const store = {
    get() { try { return localStorage.getItem(STORE_KEY); } catch { return null; } },
    set(v) {
      try { if (v) localStorage.setItem(STORE_KEY, v); else localStorage.removeItem(STORE_KEY); } catch { /* ignore */ }
    },
  };

  const showError = (msg) => { errorLine.textContent = msg || ''; };

  // rAF: measure after the freshly appended nodes are laid out.
  const scrollToEnd = () => requestAnimationFrame(() => { list.scrollTop = list.scrollHeight; });

  // Briefly disable a clicked button against double posts; it is usable again afterwards on purpose.
  // A pressed button rests a moment against double taps. It stays focusable (a disabled
  // button would drop the keyboard's focus to the page): `aria-disabled` says it rests, and
  // presses meanwhile are ignored.
  function cooldown(btn) {
    btn.setAttribute('aria-disabled', 'true');
    setTimeout(() => btn.removeAttribute('aria-disabled'), CLICK_COOLDOWN_MS);
  }
  const resting = (btn) => btn.getAttribute('aria-disabled') === 'true';

  function showTyping() {
    typing.hidden = false;
    clearTimeout(typingTimer);
    typingTimer = setTimeout(hideTyping, TYPING_TIMEOUT_MS);
  }
  function hideTyping() { clearTimeout(typingTimer); typing.hidden = true; }

  // 128 random bits as hex; crypto.getRandomValues works on plain http too.
  function newId() {
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  }

  // ---------- API ----------
  class ApiError extends Error {
    constructor(status, message) { super(message); this.status = status; }
  }
  const isUnknownSession = (e) =>
    e instanceof ApiError && e.status === 404 && /unknown session/i.test(e.message);

  // The browser's time zone, so appointment times are also shown in the customer's own.
  function timeZone() {
    try { return Intl.DateTimeFormat().resolvedOptions().timeZone || undefined; } catch { return undefined; }
  }

  // Network errors and 5xx are retried 3 times with exponential backoff; 4xx are final.
  async function api(method, path, body) {
    for (let attempt = 0; ; attempt++) {
      let res = null;
      try {
        res = await fetch(API + path, {
          method,
          headers: body ? { 'Content-Type': 'application/json' } : {},
          body: body ? JSON.stringify(body) : undefined,
          credentials: 'same-origin',
          cache: 'no-store',
        });
      } catch { /* network error: retry below */ }
      if (res && res.status < 500) {
        const data = await res.json().catch(() => null);
        if (res.ok) return data || {};
        throw new ApiError(res.status, str(data && data.error) || `Request failed (${res.status}).`);
      }
      if (attempt >= 3) throw new ApiError(0, label('connection') || 'Connection problem. Please try again.');
      await sleep(600 * 2 ** attempt);
    }
  }

  const query = () => `?session=${encodeURIComponent(session)}`;

  // ---------- rendering ----------
  function append(node) { list.append(node); scrollToEnd(); }

  function actionButton(action, cls, context) {
    const label = str(action && action.label);
    const btn = el('button', cls, label);
    btn.type = 'button';
    // Labels like "+" mean nothing alone; give the bubble and screen readers the product name.
    const full = context ? `${label} · ${context}` : label;
    if (context) btn.setAttribute('aria-label', full);
    btn.addEventListener('click', () => {
      if (resting(btn)) return;
      cooldown(btn);
      pressedFocus = true;
      send({ action: str(action && action.id) }, full);
    });
    return btn;
  }

  function renderCustomer(text, id) {
    if (id && rendered.has(id)) return null;
    if (id) rendered.add(id);
    const wrap = el('div', 'msg customer');
    wrap.append(el('div', 'bubble', text));
    append(wrap);
    return wrap;
  }

  function renderCards(cards) {
    const track = el('ul', 'cards');
    for (const c of cards) {
      if (!c || typeof c !== 'object') continue;
      const title = str(c.title);
      const card = el('li', 'card');
      const media = el('div', 'card-media');
      const src = safeUrl(c.image);
      if (src) {
        const img = el('img');
        img.loading = 'lazy'; // set before src so the browser really defers it
        img.decoding = 'async';
        // The card's heading names the product right after: the picture adds no words.
        img.alt = '';
        img.src = src;
        img.addEventListener('error', () => img.remove(), { once: true }); // fall back to placeholder
        media.append(img);
      }
      if (str(c.badge)) media.append(el('span', 'badge', c.badge));
      const body = el('div', 'card-body');
      body.append(el('h3', 'card-title', title));
      if (str(c.subtitle)) {
        const sub = el('p', 'card-sub', c.subtitle);
        sub.title = str(c.subtitle); // full text on hover, since it is ellipsised
        body.append(sub);
      }
      if (str(c.price)) body.append(el('p', 'card-price', c.price));
      const actions = el('div', 'card-actions');
      for (const a of arr(c.actions)) actions.append(actionButton(a, 'btn', title));
      card.append(media, body, actions);
      track.append(card);
    }
    return track;
  }

  function renderCart(cart) {
    const box = el('section', 'cart');
    if (str(cart.title)) box.append(el('h3', 'cart-title', cart.title));
    if (cart.empty) return box; // the title already says "your cart is empty"
    const lines = el('ul', 'cart-lines');
    for (const line of arr(cart.lines)) {
      if (!line || typeof line !== 'object') continue;
      const title = str(line.title);
      const info = el('div', 'cart-info');
      info.append(el('span', 'cart-name', title));
      if (str(line.variant)) info.append(el('span', 'cart-meta', line.variant));
      const qty = el('div', 'cart-qty');
      const unit = str(line.unit_price);
      qty.append(el('span', 'qty', `${Number(line.quantity) || 0}${unit ? ` × ${unit}` : ''}`));
      for (const a of arr(line.actions)) qty.append(actionButton(a, 'mini', title));
      const li = el('li', 'cart-line');
      li.append(info, el('span', 'cart-line-total', line.line_total), qty);
      lines.append(li);
    }
    const sum = el('div', 'cart-sum');
    sum.append(el('span', '', str(cart.total_label) || label('total') || 'Total'), el('strong', '', cart.total));
    box.append(lines, sum);
    return box;
  }

  function renderReply(r) {
    if (!r || typeof r !== 'object') return;
    const id = str(r.id);
    if (id && rendered.has(id)) return;
    if (id) rendered.add(id);
    hideTyping();
    const dir = r.dir === 'rtl' ? 'rtl' : 'ltr';
    const lang = /^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/.test(str(r.lang)) ? r.lang : '';
    const wrap = el('div', 'msg bot');
    wrap.dir = dir;
    if (lang) wrap.lang = lang;
    if (str(r.text)) wrap.append(el('div', 'bubble', r.text));
    if (arr(r.cards).length) wrap.append(renderCards(r.cards));
    if (r.cart && typeof r.cart === 'object') wrap.append(renderCart(r.cart));
    const href = r.link && safeUrl(r.link.url);
    if (href) {
      const a = el('a', 'link-btn', str(r.link.label) || href);
      a.href = href;
      a.target = '_blank';
      a.rel = 'noopener noreferrer';
      wrap.append(a);
    }
    if (arr(r.choices).length) {
      const row = el('div', 'choices');
      for (const c of r.choices) row.append(actionButton(c, 'pill'));
      wrap.append(row);
    }
    // The newest reply sets the page's language, labels and direction (Hebrew mirrors the
    // whole layout).
    if (lang) applyLanguage(lang);
    document.documentElement.dir = dir;
    append(wrap);
    settleFocus(wrap);
  }

  // Only the newest reply's buttons are in the Tab order (older ones still work by pointer),
  // so a keyboard reaches what the shop just offered in a press or two. If the keyboard was
  // on a button of an older reply (the one just pressed), it moves to the new reply's
  // first button; typing in the message box is never interrupted.
  let pressedFocus = false;
  function settleFocus(newest) {
    const controls = (node) => [...node.querySelectorAll('button, a.link-btn')];
    const active = document.activeElement;
    const wasOnOld = !!active && active !== document.body && list.contains(active) && !newest.contains(active);
    for (const old of list.querySelectorAll('.msg.bot')) {
      if (old === newest) continue;
      for (const c of controls(old)) c.tabIndex = -1;
    }
    const first = controls(newest)[0];
    if (first && (wasOnOld || (pressedFocus && (!active || active === document.body)))) first.focus();
    pressedFocus = false;
  }

  // ---------- session & stream ----------
  // The stream's first event is the conversation so far (`history`); only what the page
  // does not show yet (by id) is added, so a reconnect adds the new messages and the log
  // never re-reads the old ones.
  function applyHistory(data) {
    for (const m of arr(data && data.messages)) {
      if (m && m.from === 'customer') {
        const text = str(m.action_label) || str(m.text);
        if (text) renderCustomer(text, str(m.id));
      } else renderReply(m);
    }
  }

  function closeEvents() { if (events) events.close(); events = null; }

  // Opens the stream: on the stored session (with its history first), or, for a first
  // visit, one that makes the session and greets in the same request. Resolves once the
  // history is applied (or after 3 s, so a following message is not held up).
  function openEvents(fresh) {
    closeEvents();
    const params = fresh
      ? `?new=1&locale=${encodeURIComponent(str(navigator.language || 'en').slice(0, 2).toLowerCase())}` +
        (timeZone() ? `&time_zone=${encodeURIComponent(timeZone())}` : '')
      : `${query()}&history=1`;
    const es = new EventSource(`${API}/events${params}`);
    events = es;
    if (fresh) showTyping();
    const onData = (ev) => {
      let reply = null;
      try { reply = JSON.parse(ev.data); } catch { return; /* malformed event: skip it */ }
      renderReply(reply);
    };
    es.addEventListener('reply', onData);
    es.addEventListener('message', onData); // tolerate a server that omits the event name
    es.addEventListener('session', (ev) => {
      let data = null;
      try { data = JSON.parse(ev.data); } catch { return; }
      session = str(data && data.session);
      store.set(session);
    });
    let opened = false;
    const ready = new Promise((resolve, reject) => {
      es.addEventListener('history', (ev) => {
        opened = true;
        let data = null;
        try { data = JSON.parse(ev.data); } catch { /* nothing to apply */ }
        applyHistory(data);
        resolve();
      });
      es.addEventListener('error', () => {
        if (es !== events) return;
        // The browser would reconnect to the same address: for a first visit that would
        // make another session. Reopen on the session instead.
        if (fresh || es.readyState === EventSource.CLOSED) {
          es.close();
          events = null;
          if (fresh && !session) {
            hideTyping();
            reject(new ApiError(0, label('start') || 'Could not start the chat. Please reload.'));
            return;
          }
          // Refused before it opened: perhaps a session the server forgot; ask once.
          if (!fresh && !opened) void checkSession();
          else setTimeout(recover, fresh ? 500 : 2000);
          resolve();
        }
      });
      setTimeout(resolve, 3000);
    });
    return ready;
  }

  // Back online after a network change: the old stream may hang half-open for minutes, so
  // open a new one (its history first; only what is new gets added).
  window.addEventListener('online', () => {
    if (!session || starting) return;
    openEvents(false).catch(() => setTimeout(recover, 2000));
  });

  // Whether the stored session is still known; a forgotten one starts over.
  async function checkSession() {
    try {
      await api('GET', `/history${query()}`);
      setTimeout(recover, 2000);
    } catch (e) {
      if (isUnknownSession(e)) startSession().catch((err) => showError(err.message));
      else setTimeout(recover, 5000);
    }
  }

  // After the stream died for good: reopen (which catches up through the history).
  async function recover() {
    if (events || starting) return;
    if (!session) { startSession().catch((err) => showError(err.message)); return; }
    try {
      await openEvents(false);
    } catch (e) {
      setTimeout(recover, 5000);
    }
  }

  // Brand-new session: clear the screen and open a stream that makes one and greets us.
  function startSession() {
    starting = starting || (async () => {
      closeEvents();
      session = null;
      store.set(null);
      list.replaceChildren();
      rendered.clear();
      await openEvents(true);
    })().finally(() => { starting = null; });
    return starting;
  }

  // Post a text or an action; `label` (if any) is shown as the customer's bubble. Returns success.
  async function send(payload, label, isRetry) {
    showError('');
    if (starting) await starting.catch(() => {});
    if (!session) {
      showError(label('connecting') || 'Still connecting. Please try again in a moment.');
      return false;
    }
    const bubble = label ? renderCustomer(label) : null;
    showTyping(); // before the POST: the reply may arrive over SSE before the 202 does
    try {
      // One id per message, kept across retries, so a retried POST is not applied twice.
      const res = await api('POST', '/messages', { session, client_id: newId(), time_zone: timeZone(), ...payload });
      if (res.id) rendered.add(str(res.id));
      return true;
    } catch (e) {
      hideTyping();
      if (isUnknownSession(e) && !isRetry) {
        // Session expired server-side: start over, then deliver what the customer just did.
        try { await startSession(); } catch (err) { showError(err.message); return false; }
        return send(payload, label, true);
      }
      if (bubble) bubble.classList.add('failed');
      showError(e.message);
      return false;
    }
  }

  async function init() {
    session = store.get();
    if (session) {
      // A session the server no longer knows answers 404: the stream closes, and
      // `recover` finds out and starts over.
      await openEvents(false);
      return;
    }
    await startSession();
  }

  function boot() {
    init().catch((e) => { showError(e.message); setTimeout(boot, 5000); });
  }

  // ---------- wiring ----------
  // If the server did not substitute the placeholder (e.g. file opened directly), use a sane default.
  const shop = document.getElementById('shop-name');
  if (shop.textContent.includes('{{')) shop.textContent = FALLBACK_SHOP;
  if (document.title.includes('{{')) document.title = FALLBACK_SHOP;

  // Until the first reply says which language the conversation is in: the browser's.
  applyLanguage(navigator.language || '');

  for (const btn of document.querySelectorAll('.top [data-action]')) {
    btn.addEventListener('click', () => {
      if (resting(btn)) return;
      cooldown(btn);
      send({ action: btn.dataset.action }, btn.textContent.trim());
    });
  }

  // A single-line input inside a form: Enter submits natively.
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    input.value = '';
    const ok = await send({ text }, text);
    if (!ok && !input.value) input.value = text; // give the text back so it can be resent
    input.focus();
  });
  input.addEventListener('input', () => { if (errorLine.textContent) showError(''); });

  boot();
})();
