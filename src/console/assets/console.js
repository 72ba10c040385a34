/* Souk operator console — plain DOM, no framework, no build step.
 * Customer and operator text is untrusted: the DOM is built with createElement/textContent
 * only, never parsed as markup, and URLs are used only when they are same-origin paths or https. */
(() => {
  'use strict';

  const API = '/console/api';
  const LOGIN_URL = '/console/login';
  const WAITING_TICK_MS = 30000;
  const NOTICE_MS = { error: 10000, info: 4000 };

  const CHANNELS = {
    whatsapp: ['WA', 'WhatsApp'],
    messenger: ['MSG', 'Messenger'],
    instagram: ['IG', 'Instagram'],
    telegram: ['TG', 'Telegram'],
    discord: ['DC', 'Discord'],
    webchat: ['WEB', 'Web chat'],
  };
  const REASONS = {
    human_requested: 'Asked for a human',
    missed_twice: 'Bot did not understand twice',
    unanswered_question: 'A question the bot could not answer',
    payment_failed_twice: 'Payment failed twice',
  };
  const STATUS_LABELS = {
    pending: 'sending…',
    sent: '✓ sent',
    delivered: '✓✓ delivered',
    read: '✓✓ read',
    failed: 'failed',
  };
  const KINDS = ['in', 'out', 'held', 'operator', 'note', 'handoff'];
  const OUTBOUND = new Set(['out', 'operator']);

  const $ = (id) => document.getElementById(id);
  const ui = {
    layout: $('layout'), notice: $('notice'), live: $('live-status'), meName: $('me-name'),
    logout: $('btn-logout'), helpBtn: $('btn-help'), help: $('help'), helpClose: $('btn-help-close'),
    filters: document.querySelectorAll('[data-filter]'), channel: $('filter-channel'), search: $('search'),
    list: $('conv-list'), convEmpty: $('conv-empty'), convView: $('conv-view'),
    back: $('btn-back'), convName: $('conv-name'), convChannels: $('conv-channels'),
    convState: $('conv-state'), convReason: $('conv-reason'),
    takeover: $('btn-takeover'), handback: $('btn-handback'), resolve: $('btn-resolve'),
    assign: $('assign-select'), panelBtn: $('btn-panel'), panelClose: $('btn-panel-close'),
    timeline: $('timeline'), composer: $('composer'), replyText: $('reply-text'), send: $('btn-send'),
    noteMode: $('btn-note-mode'), modeLabel: $('composer-mode'), composerHint: $('composer-hint'),
    windowHint: $('window-hint'), canned: $('btn-canned'), cannedMenu: $('canned-menu'),
    product: $('btn-product'), productPicker: $('product-picker'), productSearch: $('product-search'),
    productResults: $('product-results'), paylink: $('btn-paylink'),
    translateRow: $('translate-row'), translateReply: $('translate-reply'),
    sideData: $('side-data'), exportJson: $('export-json'), exportText: $('export-text'),
    eraseCustomer: $('erase-customer'),
    skipToConversation: $('skip-to-conversation'), shortcutsOn: $('shortcuts-on'),
    consent: $('side-consent'), teamActivity: $('team-activity'),
    numbersBtn: $('btn-numbers'), numbers: $('numbers'), numbersRange: $('numbers-range'),
    numbersFrom: $('numbers-from'), numbersTo: $('numbers-to'), numbersTotals: $('numbers-totals'),
    numbersBy: $('numbers-by'), numbersChannel: $('numbers-channel'), numbersResponse: $('numbers-response'),
    numbersConversationsTitle: $('numbers-conversations-title'), numbersRevenueTitle: $('numbers-revenue-title'),
    numbersResponseTitle: $('numbers-response-title'),
    numbersConversations: $('numbers-conversations'), numbersRevenue: $('numbers-revenue'),
    numbersChannels: $('numbers-channels'), numbersClose: $('btn-numbers-close'),
    translateLabel: $('translate-label'),
    sideEmpty: $('side-empty'), sideBody: $('side-body'), identities: $('side-identities'),
    language: $('side-language'), windowInfo: $('side-window'), cart: $('side-cart'),
    cartTotal: $('side-cart-total'), orders: $('side-orders'),
    bookings: $('side-bookings'), noShows: $('side-no-shows'), notes: $('side-notes'),
    setAsideBtn: $('btn-set-aside'), setAside: $('set-aside'), setAsideList: $('set-aside-list'),
    setAsideClose: $('btn-set-aside-close'), setAsideSection: $('set-aside-section'),
    deadSection: $('dead-section'), deadList: $('dead-list'), deadMore: $('dead-more'),
    alerts: $('btn-alerts'),
    teamBtn: $('btn-team'), team: $('team'), teamList: $('team-list'), teamAdd: $('team-add'),
    teamDisplay: $('team-display'), teamLogin: $('team-login'), teamRole: $('team-role'),
    teamLink: $('team-link'), teamClose: $('btn-team-close'),
    order: $('order'), orderTitle: $('order-title'), orderBody: $('order-body'),
    orderMoves: $('order-moves'), orderClose: $('btn-order-close'),
  };

  const state = {
    me: null,
    // With a language model: {language, name} of the operators' language.
    translate: null,
    // Customer text -> its translation (or a promise of it): fetched once per text.
    translations: new Map(),
    csrf: '',
    filter: 'all',
    channel: '',
    q: '',
    list: [],          // Summaries as last fetched, in display order
    open: null,        // customer id of the open conversation
    erasing: null,     // customer id whose erasure is on its way (not reloaded meanwhile)
    detail: null,      // its last fetched detail
    itemCount: 0,      // timeline length on screen, to know when new items arrived
    noteMode: false,
    sending: false,
    drafts: new Map(), // unsent text per conversation, so a reply never goes to the wrong customer
  };
  // Sequence numbers: a slow response must not overwrite a newer one.
  let listSeq = 0;
  let convSeq = 0;
  let productSeq = 0;
  let noticeTimer = 0;
  let helpReturnFocus = null;

  // ---------- helpers ----------
  const str = (v) => (typeof v === 'string' ? v : v == null ? '' : String(v));
  const arr = (v) => (Array.isArray(v) ? v : []);
  const obj = (v) => (v && typeof v === 'object' ? v : {});
  const num = (v) => (Number.isFinite(Number(v)) ? Number(v) : 0);
  const pad2 = (n) => String(n).padStart(2, '0');
  const capitalise = (s) => s.charAt(0).toUpperCase() + s.slice(1);

  // Bidi embeddings, overrides and isolates in customer text (a name ending in U+202E
  // "gnp.exe") would reorder what an operator reads: shown as visible marks instead. The
  // direction marks (LRM, RLM) stay: they only steer the text they sit in, which is isolated.
  const BIDI_CONTROLS = /[\u202A-\u202E\u2066-\u2069]/g;
  const shown = (v) => str(v).replace(BIDI_CONTROLS,
    (c) => `⟦U+${c.charCodeAt(0).toString(16).toUpperCase()}⟧`);

  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text != null) node.textContent = shown(text);
    return node;
  }

  // Text that may be in any script (Hebrew, Arabic…): let the browser pick the direction.
  function textEl(tag, cls, text) {
    const node = el(tag, cls, text);
    node.dir = 'auto';
    return node;
  }

  // Same-origin paths ("/x", not the protocol-relative "//host") or https only:
  // this rejects javascript:, data:, http: and anything with leading junk.
  function safeUrl(v) {
    const s = str(v);
    return /^\/(?![/\\])/.test(s) || s.startsWith('https://') ? s : null;
  }

  function imageEl(cls, src, alt) {
    const img = el('img', cls);
    img.loading = 'lazy'; // before src, so the browser really defers it
    img.alt = alt;
    img.src = src;
    return img;
  }

  function debounce(fn, ms) {
    let timer = 0;
    return (...args) => {
      clearTimeout(timer);
      timer = setTimeout(() => fn(...args), ms);
    };
  }

  // Runs `fn` once `ms` after the first call of a burst; calls meanwhile join that run. Unlike
  // a debounce it cannot be starved: a busy shop's steady stream of changes still refreshes
  // the view every `ms`.
  function throttle(fn, ms) {
    let timer = 0;
    return () => {
      if (timer) return;
      timer = setTimeout(() => { timer = 0; fn(); }, ms);
    };
  }

  // Milliseconds (or an ISO string) to local HH:MM, prefixed with the date when not today.
  function toDate(at) {
    const d = new Date(typeof at === 'string' && !/^\d+$/.test(at) ? at : num(at));
    return at && !Number.isNaN(d.getTime()) ? d : null;
  }
  function formatTime(at) {
    const d = toDate(at);
    if (!d) return '';
    const hm = `${pad2(d.getHours())}:${pad2(d.getMinutes())}`;
    const now = new Date();
    if (d.toDateString() === now.toDateString()) return hm;
    const opts = { day: 'numeric', month: 'short' };
    if (d.getFullYear() !== now.getFullYear()) opts.year = 'numeric';
    return `${d.toLocaleDateString(undefined, opts)} ${hm}`;
  }

  function timeEl(at) {
    const t = el('time', 'msg-time', formatTime(at));
    const d = toDate(at);
    if (d) {
      t.dateTime = d.toISOString();
      t.title = d.toLocaleString();
    }
    return t;
  }

  const waitingLabel = (since) =>
    since ? `Waiting ${Math.max(0, Math.floor((Date.now() - num(since)) / 60000))} min` : 'Waiting';

  const reasonLabel = (r) => REASONS[r] || str(r).replace(/_/g, ' ');

  // The best known name (given at checkout or booking, else the platform's profile name),
  // else their phone or e-mail, else a short reference: never a 64-character id.
  function displayName(row) {
    const s = obj(row);
    return str(s.name) || str(s.contact) || `Customer ${str(s.reference)}`.trim();
  }

  // A platform id as staff read it: a phone number or a handle as it is, a web chat
  // visitor's digest as "visitor" (the raw id is in the tooltip for whoever needs it).
  function identityLabel(identity) {
    const i = obj(identity);
    const id = str(i.id);
    if (i.channel === 'webchat' || id.length > 32) return 'web chat visitor';
    return id;
  }

  // Event handlers must never leave an error uncaught: report it in #notice instead.
  function safe(fn) {
    return (...args) => {
      try {
        const r = fn(...args);
        if (r && typeof r.catch === 'function') r.catch(reportError);
      } catch (e) {
        reportError(e);
      }
    };
  }
  function reportError(e) { showNotice(`Something went wrong: ${str(e && e.message) || e}`); }

  // ---------- notice ----------
  function showNotice(message, kind = 'error') {
    ui.notice.textContent = message;
    ui.notice.className = `notice notice-${kind}`;
    ui.notice.hidden = false;
    clearTimeout(noticeTimer);
    noticeTimer = setTimeout(hideNotice, NOTICE_MS[kind] || NOTICE_MS.error);
  }
  function hideNotice() { ui.notice.hidden = true; }

  // ---------- API ----------
  // Resolves to {ok, status, data, error}; never rejects, so callers only branch on `ok`.
  async function request(method, path, body) {
    const headers = {};
    if (method === 'POST') headers['X-CSRF-Token'] = state.csrf;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    let res;
    try {
      res = await fetch(path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: 'same-origin',
        cache: 'no-store',
      });
    } catch {
      return { ok: false, status: 0, data: {}, error: 'Network problem — is the server reachable?' };
    }
    if (res.status === 401) location.assign(LOGIN_URL); // session expired or logged out elsewhere
    const data = obj(await res.json().catch(() => null));
    const error = res.ok ? '' : str(data.error) || `Request failed (${res.status}).`;
    return { ok: res.ok, status: res.status, data, error };
  }
  const post = (path, body) => request('POST', path, body);
  const convPath = (c) => `${API}/conversations/${encodeURIComponent(c)}`;

  // ---------- badges ----------
  function channelBadge(channel) {
    const [label, name] = CHANNELS[channel] || [str(channel).slice(0, 3).toUpperCase(), str(channel)];
    const b = el('span', `ch ch-${str(channel).replace(/[^a-z]/g, '')}`, label);
    b.title = name;
    return b;
  }

  function channelBadges(channels) {
    const wrap = el('span', 'channels');
    for (const c of arr(channels)) wrap.append(channelBadge(c));
    return wrap;
  }

  function stateBadge(s) {
    const b = el('span', `badge state-${str(s.state) || 'bot'}`);
    if (s.state === 'waiting') {
      // The label is recomputed every 30 s from this attribute (see tickWaiting).
      b.dataset.waitingSince = str(s.waiting_since);
      b.textContent = waitingLabel(s.waiting_since);
      if (s.reason) b.title = reasonLabel(s.reason);
    } else if (s.state === 'human') {
      const owner = str(s.owner_name) || str(s.owner);
      b.textContent = owner ? capitalise(owner) : 'Human';
      b.title = owner ? `Handled by ${owner}` : 'Handled by an operator';
      if (state.me && owner === state.me.name) b.classList.add('mine');
    } else {
      b.textContent = 'Bot';
    }
    return b;
  }

  function tickWaiting() {
    for (const b of document.querySelectorAll('[data-waiting-since]')) {
      b.textContent = waitingLabel(b.dataset.waitingSince);
    }
  }

  // ---------- conversation list ----------
  async function refreshList() {
    const seq = ++listSeq;
    const params = new URLSearchParams({ filter: state.filter });
    if (state.channel) params.set('channel', state.channel);
    if (state.q) params.set('q', state.q);
    const res = await request('GET', `${API}/conversations?${params}`);
    if (seq !== listSeq) return;
    if (!res.ok) {
      showNotice(`Could not load conversations: ${res.error}`);
      return;
    }
    state.list = arr(res.data.conversations).filter((s) => s && str(s.customer));
    renderList();
    noticeWaiting(num(res.data.waiting));
  }

  // ---------- waiting customers: title badge, optional sound and desktop notification ----------
  const BASE_TITLE = document.title;
  const ALERTS_KEY = 'souk.console.alerts';
  let lastWaiting = -1;
  let alertsOn = localStorage.getItem(ALERTS_KEY) === 'on';

  function showAlertsState() {
    ui.alerts.textContent = alertsOn ? 'Alerts on' : 'Alerts off';
    ui.alerts.setAttribute('aria-pressed', String(alertsOn));
  }

  async function toggleAlerts() {
    alertsOn = !alertsOn;
    localStorage.setItem(ALERTS_KEY, alertsOn ? 'on' : 'off');
    // Asked on the operator's click, as browsers require; refused, the sound still plays.
    if (alertsOn && 'Notification' in window && Notification.permission === 'default') {
      await Notification.requestPermission().catch(() => 'denied');
    }
    showAlertsState();
  }

  function chime() {
    try {
      const audio = new (window.AudioContext || window.webkitAudioContext)();
      const tone = audio.createOscillator();
      const gain = audio.createGain();
      tone.frequency.value = 880;
      gain.gain.setValueAtTime(0.15, audio.currentTime);
      gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + 0.4);
      tone.connect(gain).connect(audio.destination);
      tone.start();
      tone.stop(audio.currentTime + 0.4);
    } catch { /* no audio here: the title badge still shows */ }
  }

  function noticeWaiting(count) {
    document.title = count > 0 ? `(${count}) ${BASE_TITLE}` : BASE_TITLE;
    const more = lastWaiting >= 0 && count > lastWaiting;
    lastWaiting = count;
    if (!more || !alertsOn) return;
    chime();
    if ('Notification' in window && Notification.permission === 'granted' && document.visibilityState !== 'visible') {
      const note = new Notification('A customer is waiting for a person', {
        body: count === 1 ? '1 conversation needs a human' : `${count} conversations need a human`,
        tag: 'souk-waiting',
      });
      note.onclick = () => { window.focus(); setFilter('waiting'); note.close(); };
    }
  }
  const scheduleListRefresh = throttle(safe(refreshList), 200);

  function previewText(last) {
    if (!last) return 'No messages yet';
    const prefix = last.from === 'bot' ? 'Bot: ' : last.from === 'operator' ? 'Operator: ' : '';
    return prefix + str(last.text);
  }

  function renderRow(s) {
    const row = el('button', 'conv-row');
    row.type = 'button';
    row.dataset.customer = s.customer;
    if (s.state === 'waiting') row.classList.add('is-waiting');
    if (s.customer === state.open) {
      row.classList.add('active');
      row.setAttribute('aria-current', 'true');
    }
    const top = el('span', 'conv-top');
    const last = s.last ? obj(s.last) : null;
    top.append(
      textEl('span', 'conv-name', displayName(s)),
      channelBadges(s.channels),
      el('span', 'conv-time', last ? formatTime(last.at) : ''),
    );
    const bottom = el('span', 'conv-bottom');
    bottom.append(textEl('span', 'conv-preview', previewText(last)), stateBadge(s));
    const unread = num(s.unread);
    if (unread > 0) {
      const bubble = el('span', 'unread', unread > 99 ? '99+' : unread);
      bubble.setAttribute('aria-label', `${unread} unread`);
      bottom.append(bubble);
    }
    row.append(top, bottom);
    row.addEventListener('click', safe(() => openConversation(s.customer)));
    return row;
  }

  function renderList() {
    // Rows are rebuilt on every refresh; keep keyboard focus on the same customer's row.
    const active = document.activeElement;
    const focused = active && active.classList.contains('conv-row') ? active.dataset.customer : null;
    ui.list.replaceChildren(...state.list.map(renderRow));
    if (!state.list.length) ui.list.append(el('p', 'empty', 'No conversations here.'));
    if (focused) rowFor(focused)?.focus({ preventScroll: true });
  }

  // No CSS selector built from an id: ids are data, not code.
  const rowFor = (customer) =>
    [...ui.list.querySelectorAll('.conv-row')].find((r) => r.dataset.customer === customer);

  function setFilter(filter) {
    state.filter = filter;
    for (const b of ui.filters) b.setAttribute('aria-pressed', String(b.dataset.filter === filter));
    void refreshList();
  }

  // ---------- conversation ----------
  const summary = () => obj(state.detail && state.detail.summary);
  const isMine = (s) => s.state === 'human' && !!state.me && s.owner === state.me.name;

  function openConversation(customer, focusRow) {
    if (!customer) return;
    const switching = customer !== state.open;
    if (switching) {
      if (state.open) state.drafts.set(state.open, ui.replyText.value);
      state.open = customer;
      state.detail = null;
      state.itemCount = 0;
      state.noteMode = false;
      ui.replyText.value = state.drafts.get(customer) || '';
      closeMenus();
      history.replaceState(null, '', `#${encodeURIComponent(customer)}`);
      ui.convEmpty.hidden = true;
      ui.convView.hidden = false;
      ui.timeline.replaceChildren(el('p', 'placeholder', 'Loading…'));
      updateComposer();
    }
    ui.layout.classList.add('show-conv'); // narrow screens: switch from the list to the conversation
    for (const r of ui.list.querySelectorAll('.conv-row')) {
      const on = r.dataset.customer === customer;
      r.classList.toggle('active', on);
      if (on) r.setAttribute('aria-current', 'true'); else r.removeAttribute('aria-current');
    }
    if (focusRow) rowFor(customer)?.focus();
    ui.skipToConversation.hidden = false;
    // On a narrow screen the list gives way to the conversation: the keyboard follows.
    const row = rowFor(customer);
    if (!row || row.offsetParent === null) ui.convName.focus();
    return loadConversation(switching);
  }

  async function loadConversation(fresh) {
    const customer = state.open;
    if (!customer || customer === state.erasing) return;
    const seq = ++convSeq;
    const res = await request('GET', convPath(customer));
    if (seq !== convSeq || customer !== state.open) return;
    if (!res.ok) {
      showNotice(`Could not load the conversation: ${res.error}`);
      if (!state.detail) ui.timeline.replaceChildren(el('p', 'placeholder', 'Could not load this conversation.'));
      return;
    }
    state.detail = res.data;
    renderConversation(fresh);
    await markReadIfNeeded(customer);
  }
  const scheduleConvRefresh = throttle(safe(() => loadConversation(false)), 200);

  async function markReadIfNeeded(customer) {
    const s = summary();
    if (num(s.unread) <= 0 || document.visibilityState !== 'visible') return;
    const res = await post(`${convPath(customer)}/read`);
    if (!res.ok) return; // harmless: the count stays until the next open
    s.unread = 0;
    const listed = state.list.find((x) => x.customer === customer);
    if (listed) {
      listed.unread = 0;
      renderList();
    }
  }

  function renderConversation(fresh) {
    const d = obj(state.detail);
    const s = summary();
    const c = obj(d.customer);
    ui.convName.textContent = shown(displayName(s));
    ui.convName.title = [str(s.reference), str(s.contact), str(s.address), str(s.customer)]
      .filter(Boolean).join(' · ');
    ui.convChannels.replaceChildren(channelBadges(s.channels));
    ui.convState.replaceChildren(stateBadge(s));
    ui.convReason.textContent = s.state === 'waiting' && s.reason ? reasonLabel(s.reason) : '';
    const mine = isMine(s);
    ui.takeover.hidden = mine;
    ui.handback.hidden = !mine;
    ui.resolve.hidden = !mine;
    renderTimeline(arr(d.timeline), fresh);
    renderSide(d);
    updateComposer();
  }

  // An item's identity in the timeline: what it is, whatever its delivery status says.
  const itemKey = (it) => JSON.stringify([it.kind, it.at, it.by, it.text, it.channel]);

  // The timeline is a live region: an update adds only the new items (a screen reader
  // reads just those), and a changed delivery status is patched in place, unannounced.
  function renderTimeline(items, fresh) {
    const box = ui.timeline;
    const keep = box.scrollTop;
    const customerName = displayName(summary());
    if (fresh) box.replaceChildren();
    box.querySelector(':scope > .placeholder')?.remove();
    const nodes = [...box.children];
    let i = 0;
    for (; i < items.length && i < nodes.length; i++) {
      const it = obj(items[i]);
      const node = nodes[i];
      if (node.dataset.key !== itemKey(it)) break;
      const sig = JSON.stringify(it);
      if (node.dataset.sig !== sig) {
        node.dataset.sig = sig;
        const meta = node.querySelector('.msg-meta');
        const fresher = renderItem(it, customerName).querySelector('.msg-meta');
        if (meta && fresher) meta.replaceWith(fresher);
        node.classList.toggle('msg-failed', it.status === 'failed');
      }
    }
    // From the first difference on (a new conversation, the window of items moved): anew.
    for (const stale of nodes.slice(i)) stale.remove();
    for (const raw of items.slice(i)) {
      const it = obj(raw);
      const node = renderItem(it, customerName);
      node.dataset.key = itemKey(it);
      node.dataset.sig = JSON.stringify(it);
      box.append(node);
    }
    if (!items.length) box.append(el('p', 'placeholder', 'No messages yet.'));
    const grew = items.length > state.itemCount;
    state.itemCount = items.length;
    // rAF: measure after the new nodes are laid out.
    requestAnimationFrame(() => { box.scrollTop = fresh || grew ? box.scrollHeight : keep; });
  }

  function byLabel(it, kind, customerName) {
    if (kind === 'held') return 'Bot (held, not sent)';
    if (kind === 'note') return it.by ? `Private note · ${str(it.by)}` : 'Private note';
    if (kind === 'handoff') return 'Hand-off';
    if (it.by === 'customer' || kind === 'in') return customerName;
    if (it.by === 'bot' || !it.by) return 'Bot';
    return str(it.by);
  }

  function renderItem(it, customerName) {
    const kind = KINDS.includes(it.kind) ? it.kind : 'in';
    const wrap = el('div', `msg msg-${kind}`);
    const meta = el('div', 'msg-meta');
    meta.append(textEl('span', 'msg-by', byLabel(it, kind, customerName)));
    if (kind === 'note' && it.by) meta.append(el('span', 'msg-author', `by ${str(it.by)}`));
    if (it.channel) meta.append(channelBadge(it.channel));
    meta.append(timeEl(it.at));
    if (OUTBOUND.has(kind) && STATUS_LABELS[it.status]) {
      const st = el('span', `msg-status status-${it.status}`, STATUS_LABELS[it.status]);
      if (it.status === 'failed') {
        wrap.classList.add('msg-failed');
        st.title = str(it.error) || 'Sending failed';
      }
      meta.append(st);
    }
    wrap.append(meta);
    if (str(it.text)) {
      // The customer's words in their language: a screen reader reads them in its voice.
      const text = textEl('p', 'msg-text', it.text);
      text.dir = 'auto';
      if (/^[a-z]{2,3}$/.test(str(it.lang))) text.lang = str(it.lang);
      wrap.append(text);
    }
    if (it.media) wrap.append(renderMedia(obj(it.media)));
    if (arr(it.cards).length) wrap.append(renderCards(it.cards));
    // What the bot offered, as words: these are not buttons the operator can press.
    if (arr(it.choices).length) {
      wrap.append(textEl('p', 'offered', `Buttons offered: ${it.choices.map(str).join(' · ')}`));
    }
    if (str(it.understood)) wrap.append(textEl('p', 'understood', `Bot understood: ${str(it.understood)}`));
    if (kind === 'in') addTranslation(wrap, it);
    if (str(it.original)) {
      const orig = textEl('p', 'original', `Written as: ${str(it.original)}`);
      orig.dir = 'auto';
      wrap.append(orig);
    }
    return wrap;
  }

  // A customer's message in another language than the operators': its translation under
  // it, fetched once per text (an item is rebuilt when the window of items moves).
  function addTranslation(wrap, it) {
    const t = state.translate;
    const from = str(it.lang);
    if (!t || !from || from === t.language || !str(it.text) || !state.open) return;
    const slot = el('p', 'translation', 'Translating…');
    slot.lang = t.language;
    slot.dir = 'auto';
    wrap.append(slot);
    const key = `${state.open}\u0000${str(it.text)}`;
    let entry = state.translations.get(key);
    // A failed translation is asked again only after a minute, not at every update.
    if (!entry || (entry.failedAt && Date.now() - entry.failedAt > 60000)) {
      entry = { request: null, failedAt: 0 };
      entry.request = post(`${convPath(state.open)}/translate`, { text: str(it.text) }).then((res) => {
        if (!res.ok) entry.failedAt = Date.now();
        return res;
      });
      state.translations.set(key, entry);
    }
    entry.request.then((res) => {
      slot.textContent = res.ok
        ? `Translated from ${from}: ${str(res.data.text)}`
        : `Translation unavailable: ${res.error}`;
      if (!res.ok) slot.classList.add('translation-failed');
    });
  }

  function renderMedia(m) {
    const url = safeUrl(m.url);
    const name = str(m.name) || (m.kind === 'image' ? 'Image' : 'File');
    if (!url) return el('p', 'media-missing', `[${name}]`);
    const a = el('a', m.kind === 'image' ? 'media-link' : 'media-file');
    a.href = url;
    a.target = '_blank';
    a.rel = 'noopener noreferrer';
    if (m.kind === 'image') {
      // A file name says nothing of a picture; say what it is and what the link does.
      a.append(imageEl('media-img', url, 'Picture the customer sent (opens full size)'));
    } else {
      a.download = name;
      a.textContent = shown(`⬇ ${name}`);
      a.dir = 'auto';
    }
    return a;
  }

  function renderCards(cards) {
    const list = el('div', 'cards');
    for (const raw of cards) {
      const c = obj(raw);
      const card = el('div', 'card');
      const src = safeUrl(c.image);
      if (src) card.append(imageEl('card-img', src, ''));
      const body = el('div', 'card-body');
      body.append(textEl('strong', 'card-title', c.title));
      if (str(c.subtitle)) body.append(textEl('span', 'card-sub', c.subtitle));
      card.append(body);
      list.append(card);
    }
    return list;
  }

  // ---------- side panel ----------
  function renderSide(d) {
    const c = obj(d.customer);
    ui.sideEmpty.hidden = true;
    ui.sideBody.hidden = false;

    const s = summary();
    const known = [
      ['Reference', str(s.reference)],
      ['Contact', str(s.contact)],
      ['Delivery address', str(s.address)],
    ].filter(([, value]) => value).map(([label, value]) => {
      const li = el('li', 'identity');
      li.append(el('span', 'muted', label), textEl('span', 'identity-id', value));
      return li;
    });
    ui.identities.replaceChildren(...known, ...arr(c.identities).map((raw) => {
      const i = obj(raw);
      const li = el('li', 'identity');
      const id = textEl('span', 'identity-id', identityLabel(i));
      id.title = str(i.id);
      li.append(channelBadge(i.channel), id);
      return li;
    }));
    ui.language.textContent = str(c.locale) || '—';
    // Per purpose: the answer in force (when, where) and the question's wording version.
    const consent = obj(c.consent);
    const PURPOSES = { reminders: 'Cart reminders', marketing: 'News and offers' };
    ui.consent.replaceChildren(...arr(consent.purposes).map((p) => {
      const answer = p.answer ? obj(p.answer) : null;
      const asked = p.asked ? obj(p.asked) : null;
      const where = (x) => (x && x.channel ? ` on ${(CHANNELS[x.channel] || [x.channel, x.channel])[1]}` : '');
      let line = `${PURPOSES[p.purpose] || str(p.purpose)}: `;
      if (p.purpose === 'reminders' && consent.stopped) line += 'asked to stop';
      else if (answer) line += `${answer.granted ? 'yes' : 'no'} (${formatTime(answer.at)}${where(answer)})`;
      else line += asked ? 'asked, no answer yet' : 'not asked yet';
      const row = el('div', 'consent-row', line);
      if (asked) {
        row.append(el('div', 'muted',
          `asked ${formatTime(asked.at)}${where(asked)}: ${str(asked.text)}, ${str(asked.locale)}, wording ${str(asked.version) || 'unversioned'}`));
      }
      return row;
    }));
    // Admins may export what souk holds on the customer (a download, by the session cookie).
    const admin = !!state.me && state.me.role === 'admin';
    ui.sideData.hidden = !admin || !state.open;
    if (admin && state.open) {
      ui.exportJson.href = `${convPath(state.open)}/export`;
      ui.exportText.href = `${convPath(state.open)}/export?format=text`;
    }
    // Replies may go out translated when the customer speaks another language.
    const foreign = !!state.translate && !!str(c.locale) && str(c.locale) !== state.translate.language;
    ui.translateRow.hidden = !foreign;
    if (foreign) ui.translateLabel.textContent = `Send in the customer's language (${str(c.locale)})`;
    renderLinks(arr(d.links));

    const w = obj(d.window);
    const channelName = (CHANNELS[w.channel] || [])[1] || str(w.channel);
    ui.windowInfo.className = w.open ? 'window-open' : 'window-closed';
    ui.windowInfo.textContent = `${w.open ? 'Open' : 'Closed'}${channelName ? ` on ${channelName}` : ''}`
      + (str(w.note) ? ` — ${str(w.note)}` : '');

    const cart = obj(d.cart);
    const lines = arr(cart.lines).map((raw) => {
      const l = obj(raw);
      const li = el('li', 'cart-line');
      li.append(textEl('span', 'cart-name', `${num(l.quantity)} × ${str(l.name) || str(l.sku)}`),
        el('span', 'cart-price', l.price));
      return li;
    });
    ui.cart.replaceChildren(...(lines.length ? lines : [el('li', 'muted', 'Cart is empty')]));
    ui.cartTotal.textContent = lines.length && str(cart.total) ? `Total ${str(cart.total)}` : '';

    const orders = arr(d.orders).map((raw) => {
      const o = obj(raw);
      const li = el('li', 'order');
      const open = el('button', 'link-like order-id', `#${str(o.id)}`);
      open.type = 'button';
      open.setAttribute('aria-haspopup', 'dialog');
      open.addEventListener('click', safe(() => openOrder(str(o.id))));
      li.append(open, el('span', 'badge order-status', statusWords(str(o.status))),
        el('span', 'order-total', o.total), el('span', 'muted', formatTime(o.at)));
      if (o.discount) {
        const d = obj(o.discount);
        li.append(el('span', 'muted', `code ${str(d.code)} −${num(d.percent)}% (−${str(d.amount)})`));
      }
      return li;
    });
    ui.orders.replaceChildren(...(orders.length ? orders : [el('li', 'muted', 'No orders')]));

    // Appointments: an open one whose time has come can be marked as a no-show.
    const bookings = arr(d.bookings).map((raw) => {
      const b = obj(raw);
      const li = el('li', 'booking');
      li.append(textEl('span', 'booking-service', b.service), el('span', 'muted', `${str(b.when)} · ${str(b.staff)}`),
        el('span', 'badge', b.confirmed && b.status === 'booked' ? 'confirmed' : b.status));
      if (b.status === 'booked' && num(b.start) <= Date.now()) {
        const mark = el('button', 'ghost small', 'No-show');
        mark.type = 'button';
        mark.addEventListener('click', safe(() => markNoShow(str(b.id))));
        li.append(mark);
      }
      return li;
    });
    ui.bookings.replaceChildren(...(bookings.length ? bookings : [el('li', 'muted', 'None')]));
    ui.noShows.textContent = num(d.no_shows) ? `(${num(d.no_shows)} no-show${num(d.no_shows) === 1 ? '' : 's'})` : '';

    // Notes live in the timeline (kind "note"); the panel lists them newest first.
    const notes = arr(d.timeline).map(obj).filter((it) => it.kind === 'note').reverse().map((n) => {
      const li = el('li', 'note');
      li.append(textEl('p', 'note-text', n.text), el('span', 'muted', `${str(n.by)} · ${formatTime(n.at)}`));
      return li;
    });
    ui.notes.replaceChildren(...(notes.length ? notes : [el('li', 'muted', 'No notes')]));
  }

  // ---------- composer ----------
  function updateComposer() {
    const mine = isMine(summary());
    const canWrite = !!state.detail && (mine || state.noteMode);
    ui.composer.classList.toggle('note-mode', state.noteMode);
    ui.noteMode.setAttribute('aria-pressed', String(state.noteMode));
    ui.modeLabel.textContent = state.noteMode ? 'Private note — only operators see it' : 'Reply to customer';
    ui.replyText.placeholder = state.noteMode ? 'Write a private note…' : 'Type a reply…';
    ui.send.textContent = state.noteMode ? 'Add note' : 'Send';
    ui.replyText.disabled = !canWrite;
    ui.send.disabled = !canWrite || state.sending;
    ui.composerHint.hidden = canWrite || !state.detail;
    for (const b of [ui.canned, ui.product, ui.paylink]) b.disabled = !mine || state.sending;
    const w = obj(obj(state.detail).window);
    ui.windowHint.hidden = !state.detail || state.noteMode || w.open !== false;
    ui.windowHint.textContent = `Reply window closed${w.note ? `: ${str(w.note)}` : '.'}`;
  }

  function toggleNoteMode() {
    state.noteMode = !state.noteMode;
    updateComposer();
    if (!ui.replyText.disabled) ui.replyText.focus();
  }

  function describeFailure(res) {
    if (res.status === 422) return `Cannot send now: ${res.error}`;
    if (res.status === 409 && res.data.owner) return `${res.error} (owner: ${str(res.data.owner)})`;
    return res.error;
  }

  // A canned reply's placeholder that had no value stays as ⟨name⟩: selected for the
  // operator to type over, and the reply is not sent while one is left.
  const GAP = /⟨[a-z]+⟩/;
  function selectFirstGap() {
    const found = GAP.exec(ui.replyText.value);
    if (!found) return false;
    ui.replyText.focus();
    ui.replyText.setSelectionRange(found.index, found.index + found[0].length);
    return true;
  }

  async function submitComposer() {
    const customer = state.open;
    const text = ui.replyText.value.trim();
    if (!customer || !text || state.sending || ui.replyText.disabled) return;
    if (GAP.test(text)) {
      selectFirstGap();
      showNotice(`Fill in ${GAP.exec(text)[0]} before sending: this customer has no value for it.`, 'info');
      return;
    }
    const note = state.noteMode;
    state.sending = true;
    updateComposer();
    const translate = !note && !ui.translateRow.hidden && ui.translateReply.checked;
    const body = translate ? { text, translate: true } : { text };
    const res = await post(`${convPath(customer)}/${note ? 'notes' : 'reply'}`, body);
    state.sending = false;
    updateComposer();
    if (!res.ok) {
      showNotice(describeFailure(res));
      return;
    }
    // Clear only if the operator has not typed on or switched conversation meanwhile.
    if (customer === state.open && ui.replyText.value.trim() === text) ui.replyText.value = '';
    state.drafts.delete(customer);
    // A reply shows up through the event stream; a note is fetched right away.
    if (note) void loadConversation(false);
  }

  // ---------- conversation actions ----------
  function afterAction(customer) {
    scheduleListRefresh();
    return customer === state.open ? loadConversation(false) : Promise.resolve();
  }

  async function takeOver() {
    const customer = state.open;
    if (!customer || ui.takeover.hidden) return;
    const res = await post(`${convPath(customer)}/takeover`);
    if (!res.ok) showNotice(describeFailure(res));
    await afterAction(customer);
    if (res.ok && !ui.replyText.disabled) ui.replyText.focus();
  }

  // Chats linked into this customer; an admin can undo a link made by mistake.
  function renderLinks(links) {
    const list = $('side-links');
    if (!list) return;
    const items = links.map((raw) => {
      const link = obj(raw);
      const li = el('li', 'link');
      for (const i of arr(link.identities).map(obj)) {
        li.append(channelBadge(i.channel), el('span', 'identity-id', identityLabel(i)));
      }
      li.append(el('span', 'muted', formatTime(link.at)));
      if (state.me && state.me.role === 'admin') {
        const undo = el('button', 'ghost small', 'Undo link');
        undo.type = 'button';
        undo.addEventListener('click', safe(() => unlink(str(link.customer))));
        li.append(undo);
      }
      return li;
    });
    list.replaceChildren(...(items.length ? items : [el('li', 'muted', 'None')]));
  }

  async function markNoShow(booking) {
    const customer = state.open;
    if (!customer || !booking) return;
    const res = await post(`${convPath(customer)}/bookings/${encodeURIComponent(booking)}/no-show`, {});
    if (res.ok) showNotice('Marked as a no-show.', 'info');
    else showNotice(describeFailure(res));
    await afterAction(customer);
  }

  async function unlink(linked) {
    const customer = state.open;
    if (!customer || !linked) return;
    const res = await post(`${convPath(customer)}/unlink`, { customer: linked });
    if (res.ok) showNotice('Link undone: that chat is a customer of its own again.', 'info');
    else showNotice(describeFailure(res));
    await afterAction(customer);
  }

  async function handBack(resolved) {
    const customer = state.open;
    if (!customer) return;
    const res = await post(`${convPath(customer)}/handback`, { resolved });
    if (res.ok) showNotice(resolved ? 'Resolved and handed back to the bot.' : 'Handed back to the bot.', 'info');
    else showNotice(describeFailure(res));
    const hadFocus = document.activeElement === ui.handback || document.activeElement === ui.resolve;
    await afterAction(customer);
    // The button pressed is gone now: the keyboard goes to the one that takes over again.
    if (hadFocus && !ui.takeover.hidden) ui.takeover.focus();
  }

  async function assignTo(operator) {
    const customer = state.open;
    ui.assign.value = ''; // the select is an action menu, not a state display
    if (!customer || !operator) return;
    const res = await post(`${convPath(customer)}/assign`, { operator });
    if (res.ok) showNotice(`Assigned to ${operator}.`, 'info');
    else showNotice(describeFailure(res));
    await afterAction(customer);
  }

  async function sendPaymentLink() {
    const customer = state.open;
    if (!customer) return;
    ui.paylink.disabled = true; // against double clicks; updateComposer re-enables it
    const res = await post(`${convPath(customer)}/payment-link`);
    updateComposer();
    if (res.ok) showNotice('Payment link sent.', 'info');
    else showNotice(describeFailure(res));
  }

  async function loadOperators() {
    const res = await request('GET', `${API}/operators`);
    if (!res.ok) {
      showNotice(`Could not load operators: ${res.error}`);
      return;
    }
    const options = arr(res.data.operators).map(obj).filter((o) => str(o.name)).map((o) => {
      const opt = el('option', '', o.name === state.me.name ? `${o.name} (me)` : o.name);
      opt.value = o.name;
      return opt;
    });
    const placeholder = el('option', '', 'Assign…');
    placeholder.value = '';
    ui.assign.replaceChildren(placeholder, ...options);
  }

  // ---------- menus: canned replies and product picker ----------
  function setMenu(button, menu, open) {
    menu.hidden = !open;
    button.setAttribute('aria-expanded', String(open));
  }
  function closeMenus() {
    setMenu(ui.canned, ui.cannedMenu, false);
    setMenu(ui.product, ui.productPicker, false);
  }
  const menuOpen = () => !ui.cannedMenu.hidden || !ui.productPicker.hidden;

  function menuItem(title, detail, onPick) {
    const b = el('button', 'menu-item');
    b.type = 'button';
    b.append(textEl('span', 'menu-title', title));
    if (detail) b.append(textEl('span', 'menu-detail', detail));
    b.addEventListener('click', safe(onPick));
    const li = el('li');
    li.append(b);
    return li;
  }

  async function openCanned() {
    if (!ui.cannedMenu.hidden) { closeMenus(); return; }
    const customer = state.open;
    closeMenus();
    const res = await request('GET', `${convPath(customer)}/canned`);
    if (customer !== state.open) return;
    if (!res.ok) { showNotice(`Could not load canned replies: ${res.error}`); return; }
    const items = arr(res.data.replies).map(obj).map((r) => menuItem(r.title, r.text, () => {
      ui.replyText.value = str(r.text);
      closeMenus();
      ui.replyText.focus();
      selectFirstGap();
    }));
    ui.cannedMenu.replaceChildren(...(items.length ? items : [el('li', 'muted', 'No canned replies')]));
    setMenu(ui.canned, ui.cannedMenu, true);
    ui.cannedMenu.querySelector('button')?.focus();
  }

  function openProductPicker() {
    if (!ui.productPicker.hidden) { closeMenus(); return; }
    closeMenus();
    setMenu(ui.product, ui.productPicker, true);
    ui.productSearch.value = '';
    ui.productSearch.focus();
    void searchProducts();
  }

  async function searchProducts() {
    const seq = ++productSeq;
    const res = await request('GET', `${API}/products?q=${encodeURIComponent(ui.productSearch.value.trim())}`);
    if (seq !== productSeq) return;
    if (!res.ok) { showNotice(`Could not search products: ${res.error}`); return; }
    const items = arr(res.data.products).map(obj).map((p) =>
      menuItem(p.name, p.price, () => sendProduct(str(p.id), str(p.name))));
    ui.productResults.replaceChildren(...(items.length ? items : [el('li', 'muted', 'No products found')]));
  }

  async function sendProduct(id, name) {
    const customer = state.open;
    closeMenus();
    const res = await post(`${convPath(customer)}/product`, { product: id });
    if (res.ok) showNotice(`Sent ${name || 'the product'}.`, 'info');
    else showNotice(describeFailure(res));
  }

  // ---------- live updates ----------
  function setLive(live) {
    ui.live.textContent = live ? 'live' : 'reconnecting…';
    ui.live.className = `live-status ${live ? 'is-live' : 'is-down'}`;
  }

  function connectEvents() {
    const es = new EventSource(`${API}/events`);
    let dropped = false;
    es.addEventListener('open', () => {
      setLive(true);
      if (!dropped) return;
      // Events may have been missed while disconnected: catch up.
      scheduleListRefresh();
      if (state.open) scheduleConvRefresh();
    });
    es.addEventListener('message', (ev) => {
      let customer = null;
      try { customer = str(obj(JSON.parse(ev.data)).customer); } catch { /* still refresh the list */ }
      scheduleListRefresh();
      if (customer && customer === state.open) scheduleConvRefresh();
      // A failed send is announced like any delivery news: recount the problems now and then.
      scheduleProblems();
    });
    es.addEventListener('error', () => {
      dropped = true;
      setLive(false);
      // CONNECTING: the browser retries by itself. CLOSED: it gave up (e.g. a 401 after the
      // session expired); check the session (a 401 redirects to login), then start over.
      if (es.readyState === EventSource.CLOSED) {
        setTimeout(safe(async () => {
          const res = await request('GET', `${API}/me`);
          if (res.status !== 401) connectEvents();
        }), 5000);
      }
    });
  }

  // ---------- keyboard ----------
  function isTyping(target) {
    return !!target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
  }

  function moveInList(step) {
    if (!state.list.length) return;
    const at = state.list.findIndex((s) => s.customer === state.open);
    const next = at < 0 ? (step > 0 ? 0 : state.list.length - 1) : at + step;
    if (next >= 0 && next < state.list.length) return openConversation(state.list[next].customer, true);
  }

  function nextWaiting() {
    const n = state.list.length;
    const at = state.list.findIndex((s) => s.customer === state.open);
    for (let i = 1; i <= n; i++) {
      const s = state.list[(at + i + n) % n];
      if (s.state === 'waiting' && s.customer !== state.open) return openConversation(s.customer, true);
    }
    showNotice('Nobody in this list is waiting for a human.', 'info');
  }

  function focusReply() {
    if (state.open && !ui.replyText.disabled) ui.replyText.focus();
    else if (state.open) showNotice('Take over to reply.', 'info');
  }

  function openHelp() {
    helpReturnFocus = document.activeElement;
    ui.help.hidden = false;
    ui.helpClose.focus();
  }
  function closeHelp() {
    ui.help.hidden = true;
    if (helpReturnFocus && helpReturnFocus.focus) helpReturnFocus.focus();
  }

  // ---------- an order: its details, and moving it on ----------
  const MOVE_LABELS = {
    fulfilled: 'Mark fulfilled', shipped: 'Mark shipped', delivered: 'Mark delivered',
    cancelled: 'Cancel order', refund_needed: 'Refund needed', refunded: 'Mark refunded',
  };
  // Declared, not assigned, so the side panel can use it before this point runs.
  function statusWords(s) {
    const words = {
      pending_payment: 'waiting for payment', paid: 'paid', payment_failed: 'payment failed',
      fulfilled: 'fulfilled', shipped: 'shipped', delivered: 'delivered', cancelled: 'cancelled',
      refund_needed: 'refund needed', refunded: 'refunded',
    };
    return words[s] || s;
  }

  // The order's moves, oldest first; the first is its placing.
  function orderHistory(o) {
    const changes = arr(o.history).map(obj);
    if (!changes.length) return [];
    const list = el('ol', 'plain order-history');
    list.setAttribute('aria-label', 'History');
    list.append(...changes.map((c, i) => {
      const words = statusWords(str(c.status));
      const what = i === 0 ? 'Placed' : words.charAt(0).toUpperCase() + words.slice(1);
      const li = textEl('li', 'order-change', `${formatTime(c.at)} · ${what} · ${str(c.by)}`);
      if (c.tracking) li.append(textEl('span', 'order-tracking-note', ` (${str(c.tracking)})`));
      return li;
    }));
    return [textEl('h3', 'order-sub', 'History'), list];
  }

  // Each payment link made at the provider (Stripe Checkout Session ids).
  function orderSessions(o) {
    const sessions = arr(o.payment_sessions).map(obj);
    if (!sessions.length) return [];
    const list = el('ul', 'plain');
    list.append(...sessions.map((s) => textEl('li', 'order-session', `${str(s.id)} · ${str(s.amount)} · ${formatTime(s.created_at)}`)));
    return [textEl('h3', 'order-sub', 'Payment sessions'), list];
  }

  async function openOrder(id) {
    const res = await request('GET', `${API}/orders/${encodeURIComponent(id)}`);
    if (!res.ok) { showNotice(`Could not load order ${id}: ${res.error}`); return; }
    const o = obj(res.data);
    ui.orderTitle.textContent = `Order #${str(o.id)} · ${statusWords(str(o.status))}`;
    const rows = arr(o.lines).map(obj).map((l) => {
      const li = el('li', 'cart-line');
      li.append(textEl('span', 'cart-name', `${num(l.quantity)} × ${str(l.title)}`), el('span', 'cart-price', l.line_total));
      return li;
    });
    const list = el('ul', 'plain');
    list.append(...rows);
    const facts = [
      `For ${str(o.name)} (${str(o.contact)})`,
      o.fulfilment ? (obj(o.fulfilment).kind === 'pickup' ? `Pickup at ${str(obj(o.fulfilment).at)}` : `Delivery to ${str(obj(o.fulfilment).to)}`) : '',
      o.discount ? `Code ${str(obj(o.discount).code)} −${num(obj(o.discount).percent)}% (−${str(obj(o.discount).amount)})` : '',
      `Total ${str(o.total)}`,
      `Payment links ${num(o.payment_links)}, failed payments ${num(o.payment_failures)}`,
      o.tracking ? `Tracking ${str(o.tracking)}` : '',
      o.booking ? `Deposit for booking ${str(o.booking)}` : '',
      `Placed ${formatTime(o.placed_at)}`,
    ].filter(Boolean).map((t) => textEl('p', 'order-fact', t));
    ui.orderBody.replaceChildren(list, ...facts, ...orderSessions(o), ...orderHistory(o));
    const tracking = el('input', 'order-tracking');
    tracking.type = 'url';
    tracking.placeholder = 'https://carrier.example/track/…';
    tracking.setAttribute('aria-label', 'Tracking link (for shipped)');
    const moves = arr(o.next).map(str).map((status) => {
      const b = el('button', status === 'cancelled' ? 'ghost warn' : 'primary', MOVE_LABELS[status] || status);
      b.type = 'button';
      b.addEventListener('click', safe(async () => {
        if (status === 'cancelled' && !window.confirm(`Cancel order #${str(o.id)}? The customer is told.`)) return;
        const body = { status };
        if (status === 'shipped' && tracking.value.trim()) body.tracking = tracking.value.trim();
        const done = await post(`${API}/orders/${encodeURIComponent(str(o.id))}/status`, body);
        if (!done.ok) { showNotice(`Could not move the order: ${done.error}`); return; }
        showNotice(`Order #${str(o.id)}: ${statusWords(status)}. The customer is told.`, 'info');
        closeOrder();
        if (state.open) void loadConversation(false);
      }));
      return b;
    });
    ui.orderMoves.replaceChildren(...(arr(o.next).includes('shipped') ? [tracking] : []), ...moves);
    helpReturnFocus = document.activeElement;
    ui.order.hidden = false;
    ui.orderClose.focus();
  }
  function closeOrder() {
    ui.order.hidden = true;
    if (helpReturnFocus && helpReturnFocus.focus) helpReturnFocus.focus();
  }

  // ---------- erasure (admins) ----------
  // Cannot be undone: the admin types the customer's reference to confirm.
  async function eraseCustomer() {
    const customer = state.open;
    if (!customer) return;
    const reference = str(summary().reference);
    const typed = window.prompt(
      `Erase everything souk holds on ${reference} and their linked chats? Messages, details, carts, notes and reminders go; paid orders and appointments stay for accounting, without the person. The customer is told. This cannot be undone.\n\nType ${reference} to erase.`);
    if (typed === null) return;
    if (typed.trim().toUpperCase() !== reference.toUpperCase()) {
      showNotice('Nothing erased: the reference did not match.');
      return;
    }
    // A live event meanwhile must not reload a conversation the erasure is taking away
    // (its load would find nothing: a 404, and a notice for nothing).
    state.erasing = customer;
    const done = await post(`${convPath(customer)}/erase`).finally(() => { state.erasing = null; });
    if (!done.ok) { showNotice(`Could not erase: ${done.error}`); return; }
    showNotice(done.status === 202
      ? `${reference}: erasure queued; it finishes as soon as the conversation is free.`
      : `${reference}: erased. The customer was sent a last message.`, 'info');
    state.open = null;
    state.detail = null;
    history.replaceState(null, '', location.pathname);
    ui.convView.hidden = true;
    ui.convEmpty.hidden = false;
    // Nothing of them stays on screen either.
    ui.skipToConversation.hidden = true;
    ui.sideBody.hidden = true;
    ui.sideEmpty.hidden = false;
    ui.layout.classList.remove('show-conv');
    void refreshList();
  }

  // ---------- the team (admins): invite, reset, change role, remove ----------
  function showLink(who, link) {
    ui.teamLink.hidden = false;
    ui.teamLink.replaceChildren(
      el('span', '', `One-time link for ${who} (works for 72 hours, once): `),
      el('code', 'team-link-url', link),
    );
  }

  async function loadTeam() {
    const res = await request('GET', `${API}/operators`);
    if (!res.ok) { showNotice(`Could not load the team: ${res.error}`); return; }
    ui.teamList.replaceChildren(...arr(res.data.operators).map(obj).map((op) => {
      const li = el('li', 'team-row');
      const who = textEl('span', 'team-name', `${str(op.display_name)} (${str(op.name)})`);
      const role = el('select', 'team-role');
      for (const r of ['agent', 'admin']) {
        const o = el('option', '', r === 'admin' ? 'Admin' : 'Agent');
        o.value = r;
        o.selected = op.role === r;
        role.append(o);
      }
      role.setAttribute('aria-label', `Role of ${str(op.name)}`);
      role.addEventListener('change', safe(async () => {
        const done = await post(`${API}/operators/${encodeURIComponent(str(op.name))}/role`, { role: role.value });
        if (!done.ok) showNotice(`Could not change the role: ${done.error}`);
        await loadTeam();
      }));
      const reset = el('button', 'ghost small', 'New set-up link');
      reset.type = 'button';
      reset.addEventListener('click', safe(async () => {
        const done = await post(`${API}/operators/${encodeURIComponent(str(op.name))}/reset`);
        if (!done.ok) { showNotice(`Could not reset: ${done.error}`); return; }
        showLink(str(op.name), str(done.data.setup_link));
        await loadTeam();
      }));
      const remove = el('button', 'ghost small warn', 'Remove');
      remove.type = 'button';
      remove.addEventListener('click', safe(async () => {
        if (!window.confirm(`Remove ${str(op.name)} from the team?`)) return;
        const done = await post(`${API}/operators/${encodeURIComponent(str(op.name))}/remove`);
        if (!done.ok) showNotice(`Could not remove: ${done.error}`);
        await loadTeam();
      }));
      li.append(who, role, reset, remove);
      if (op.awaiting_set_up) li.append(el('span', 'badge', 'invited'));
      return li;
    }));
  }

  async function inviteColleague(ev) {
    ev.preventDefault();
    const name = ui.teamLogin.value.trim();
    if (!name) return;
    const done = await post(`${API}/operators`, {
      name, display_name: ui.teamDisplay.value.trim(), role: ui.teamRole.value,
    });
    if (!done.ok) { showNotice(`Could not invite: ${done.error}`); return; }
    showLink(name, str(done.data.setup_link));
    ui.teamLogin.value = '';
    ui.teamDisplay.value = '';
    await loadTeam();
  }

  // ---------- the shop's numbers (admins) ----------
  const SVG = 'http://www.w3.org/2000/svg';
  function svgEl(tag, attrs) {
    const node = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
    return node;
  }

  // A bar per day, drawn in the page (no library): value labels as <title> for hover and
  // for screen readers, the largest value written on the axis.
  function barChart(box, days, values, label, format) {
    const width = 640, height = 160, pad = 24;
    const max = Math.max(1, ...values);
    const svg = svgEl('svg', { viewBox: `0 0 ${width} ${height + pad}`, role: 'img', class: 'bars' });
    const title = svgEl('title', {});
    title.textContent = `${label}: ${values.reduce((a, b) => a + b, 0) ? '' : 'none in this range'}`;
    svg.append(title);
    const step = (width - pad) / Math.max(1, values.length);
    values.forEach((value, i) => {
      const h = Math.round((value / max) * height);
      const bar = svgEl('rect', { x: pad + i * step + 1, y: height - h, width: Math.max(1, step - 2), height: h, class: 'bar' });
      const tip = svgEl('title', {});
      tip.textContent = `${days[i]}: ${format(value)}`;
      bar.append(tip);
      svg.append(bar);
    });
    const top = svgEl('text', { x: 0, y: 10, class: 'axis' });
    top.textContent = format(max);
    svg.append(top);
    const first = svgEl('text', { x: pad, y: height + pad - 4, class: 'axis' });
    first.textContent = days[0] || '';
    const last = svgEl('text', { x: width, y: height + pad - 4, class: 'axis', 'text-anchor': 'end' });
    last.textContent = days[days.length - 1] || '';
    svg.append(first, last);
    box.replaceChildren(svg);
  }

  // The rows of the last load, so changing "by" or the channel needs no new request.
  let numbersData = null;

  async function loadNumbers() {
    const q = new URLSearchParams();
    if (ui.numbersFrom.value) q.set('from', ui.numbersFrom.value);
    if (ui.numbersTo.value) q.set('to', ui.numbersTo.value);
    const res = await request('GET', `${API}/kpis?${q}`);
    if (!res.ok) {
      showNotice(`Could not load the numbers: ${res.error}`);
      return;
    }
    numbersData = obj(res.data);
    ui.numbersFrom.value = str(numbersData.from);
    ui.numbersTo.value = str(numbersData.to);
    const rows = arr(numbersData.rows).map(obj);
    const channels = [...new Set(rows.filter((r) => r.channel !== 'all').map((r) => str(r.channel)))].sort();
    const chosen = ui.numbersChannel.value || 'all';
    ui.numbersChannel.replaceChildren(new Option('All channels', 'all'),
      ...channels.map((c) => new Option((CHANNELS[c] || [])[1] || c, c)));
    ui.numbersChannel.value = channels.includes(chosen) ? chosen : 'all';
    renderNumbers();
  }

  // Sums of a list of rows; averages and rates from the sums, so any span adds up.
  function sumRows(list) {
    const sum = (key) => list.reduce((a, r) => a + num(r[key]), 0);
    const byStep = {};
    for (const r of list) {
      for (const [step, minor] of Object.entries(obj(r.recovered_revenue_by_step))) byStep[step] = (byStep[step] || 0) + num(minor);
    }
    const keys = ['conversations', 'buyers', 'orders', 'paid_orders', 'revenue_minor', 'carts_chased', 'reminders_sent',
      'recovered_orders', 'recovered_revenue_minor', 'bookings', 'no_shows', 'handoffs', 'first_responses',
      'first_response_ms_total', 'resolutions', 'resolution_ms_total', 'model_readings', 'model_fallbacks'];
    const out = Object.fromEntries(keys.map((k) => [k, sum(k)]));
    out.byStep = byStep;
    return out;
  }

  function renderNumbers() {
    const d = obj(numbersData);
    if (!numbersData) return;
    const scale = 10 ** num(d.minor_digits);
    const money = (minor) => new Intl.NumberFormat(undefined, { style: 'currency', currency: str(d.currency) || 'EUR' }).format(minor / scale);
    const minutes = (ms) => `${Math.round(ms / 60000)} min`;
    const channel = ui.numbersChannel.value || 'all';
    const weekly = ui.numbersBy.value === 'week';
    const rows = arr(d.rows).map(obj).filter((r) => r.channel === channel);
    // Every day of the range, also those without any record; weeks start on Monday.
    const days = [];
    for (let t = Date.parse(`${d.from}T00:00:00Z`); t <= Date.parse(`${d.to}T00:00:00Z`); t += 86400000) {
      days.push(new Date(t).toISOString().slice(0, 10));
    }
    const bucketOf = (day) => {
      if (!weekly) return day;
      const t = Date.parse(`${day}T00:00:00Z`);
      const monday = t - ((new Date(t).getUTCDay() + 6) % 7) * 86400000;
      return new Date(monday).toISOString().slice(0, 10);
    };
    const buckets = [...new Set(days.map(bucketOf))];
    const grouped = new Map(buckets.map((b) => [b, []]));
    for (const r of rows) grouped.get(bucketOf(str(r.day)))?.push(r);
    const per = buckets.map((b) => sumRows(grouped.get(b)));
    const t = sumRows(rows);
    const pct = (part, whole) => (whole ? `${Math.round((part / whole) * 100)}%` : '—');
    const steps = Object.entries(t.byStep).sort((a, b) => Number(a[0]) - Number(b[0]))
      .map(([step, minor]) => `${step}: ${money(minor)}`).join(' · ');
    const totals = [
      ['Conversations', String(t.conversations)],
      ['Chat-to-purchase', pct(t.buyers, t.conversations)],
      ['Paid orders', String(t.paid_orders)],
      ['Revenue', money(t.revenue_minor)],
      ['Average order', t.paid_orders ? money(Math.round(t.revenue_minor / t.paid_orders)) : '—'],
      ['Carts chased', `${t.carts_chased} (${t.reminders_sent} reminders)`],
      ['Recovered by reminders', `${t.recovered_orders} · ${money(t.recovered_revenue_minor)}`],
      ['Recovered per reminder step', steps || '—'],
      ['Appointments', String(t.bookings)],
      ['No-shows', t.bookings ? `${t.no_shows} (${pct(t.no_shows, t.bookings)})` : '—'],
      ['Hand-offs to a person', `${t.handoffs} (${pct(t.handoffs, t.conversations)} of conversations)`],
      ['First reply from the team', t.first_responses ? `${minutes(t.first_response_ms_total / t.first_responses)} on average` : '—'],
      ['Resolved (handed back)', t.resolutions ? `${t.resolutions} in ${minutes(t.resolution_ms_total / t.resolutions)} on average` : '—'],
      ['Language model', t.model_readings ? `${t.model_readings} readings, ${pct(t.model_fallbacks, t.model_readings)} answered by the rules instead` : '—'],
    ];
    ui.numbersTotals.replaceChildren(...totals.flatMap(([k, v]) => [textEl('dt', '', k), textEl('dd', '', v)]));
    const unit = weekly ? 'week' : 'day';
    ui.numbersConversationsTitle.textContent = `Conversations per ${unit}`;
    ui.numbersRevenueTitle.textContent = `Revenue per ${unit}`;
    ui.numbersResponseTitle.textContent = `Minutes to the team's first reply, per ${unit}`;
    barChart(ui.numbersConversations, buckets, per.map((p) => p.conversations), `Conversations per ${unit}`, String);
    barChart(ui.numbersRevenue, buckets, per.map((p) => p.revenue_minor), `Revenue per ${unit}`, money);
    barChart(ui.numbersResponse, buckets,
      per.map((p) => (p.first_responses ? Math.round(p.first_response_ms_total / p.first_responses / 60000) : 0)),
      `Minutes to the first reply per ${unit}`, (v) => `${v} min`);
    const all = arr(d.rows).map(obj);
    const names = [...new Set(all.filter((r) => r.channel !== 'all').map((r) => str(r.channel)))].sort();
    const head = el('tr');
    for (const h of ['Channel', 'Conversations', 'Paid orders', 'Revenue', 'Hand-offs', 'First reply']) head.append(textEl('th', '', h));
    const body = names.map((name) => {
      const s = sumRows(all.filter((r) => r.channel === name));
      const tr = el('tr');
      tr.append(textEl('td', '', (CHANNELS[name] || [])[1] || name), textEl('td', '', String(s.conversations)),
        textEl('td', '', String(s.paid_orders)), textEl('td', '', money(s.revenue_minor)),
        textEl('td', '', String(s.handoffs)),
        textEl('td', '', s.first_responses ? minutes(s.first_response_ms_total / s.first_responses) : '—'));
      return tr;
    });
    ui.numbersChannels.replaceChildren(head, ...body);
  }

  function openNumbers() {
    helpReturnFocus = document.activeElement;
    ui.numbers.hidden = false;
    ui.numbersClose.focus();
    void loadNumbers();
  }
  function closeNumbers() {
    ui.numbers.hidden = true;
    if (helpReturnFocus && helpReturnFocus.focus) helpReturnFocus.focus();
  }

  function openTeam() {
    helpReturnFocus = document.activeElement;
    ui.team.hidden = false;
    ui.teamLink.hidden = true;
    ui.teamClose.focus();
    void loadTeam();
    void loadActivity();
  }

  const ACTIONS = {
    view: 'viewed', export: 'exported the data of', takeover: 'took over', hand_back: 'handed back',
    unlink: 'undid a link of', order_status: 'moved an order of',
  };
  async function loadActivity() {
    const res = await request('GET', `${API}/audit?limit=50`);
    if (!res.ok) {
      ui.teamActivity.replaceChildren(el('li', 'muted', `Could not load: ${res.error}`));
      return;
    }
    const entries = arr(res.data.entries).map(obj);
    ui.teamActivity.replaceChildren(...(entries.length ? entries.map((e) => {
      const li = el('li', 'activity');
      const what = ACTIONS[e.action] || str(e.action);
      li.append(textEl('span', 'activity-who', `${str(e.actor)} ${what} ${str(e.customer).slice(0, 6).toUpperCase() ? `C-${str(e.customer).replace(/[^0-9a-z]/gi, '').slice(0, 6).toUpperCase()}` : ''}`));
      if (str(e.detail)) li.append(textEl('span', 'muted', ` · ${str(e.detail)}`));
      li.append(el('span', 'muted', ` · ${formatTime(e.at)}`));
      return li;
    }) : [el('li', 'muted', 'Nothing yet')]));
  }
  function closeTeam() {
    ui.team.hidden = true;
    if (helpReturnFocus && helpReturnFocus.focus) helpReturnFocus.focus();
  }

  // ---------- problems (admins): set-aside events and replies that could not be sent ----------
  const scheduleProblems = throttle(safe(() => loadSetAside()), 3000);
  async function loadSetAside() {
    if (!state.me || state.me.role !== 'admin') return;
    const [res, dead] = await Promise.all([request('GET', `${API}/set-aside`), request('GET', `${API}/dead-letters`)]);
    if (!res.ok || !dead.ok) return;
    const rows = arr(res.data.events).map(obj);
    const letters = arr(dead.data.letters).map(obj);
    const deadTotal = num(dead.data.total);
    const count = rows.length + deadTotal;
    ui.setAsideBtn.hidden = count === 0;
    ui.setAsideBtn.textContent = `Problems (${count})`;
    ui.setAsideSection.hidden = rows.length === 0;
    ui.deadSection.hidden = deadTotal === 0;
    ui.deadMore.hidden = deadTotal <= letters.length;
    ui.deadMore.textContent = `The newest ${letters.length} of ${deadTotal}.`;
    ui.deadList.replaceChildren(...letters.map((row) => {
      const li = el('li', 'set-aside-row');
      const head = el('div', 'muted', `${str(row.who)} · ${str(row.channel)} · failed ${formatTime(row.failed_at)} · ${num(row.attempts)} tries`);
      const text = textEl('p', 'set-aside-text', str(row.text));
      const reason = el('p', 'muted', str(row.reason));
      const open = el('button', 'ghost', 'Open conversation');
      open.type = 'button';
      open.addEventListener('click', safe(async () => {
        closeSetAside();
        await openConversation(str(row.customer), true);
      }));
      const resend = el('button', '', 'Send again');
      resend.type = 'button';
      resend.addEventListener('click', safe(async () => {
        resend.disabled = true;
        const done = await post(`${API}/dead-letters/${encodeURIComponent(str(row.id))}/resend`);
        if (!done.ok) showNotice(`Could not send again: ${done.error}`);
        else showNotice('Queued to send again.', 'info');
        await loadSetAside();
        if (ui.setAsideBtn.hidden) closeSetAside(); else ui.setAsideClose.focus();
      }));
      li.append(head, text, reason, open, resend);
      return li;
    }));
    ui.setAsideList.replaceChildren(...rows.map((row) => {
      const li = el('li', 'set-aside-row');
      const head = el('div', 'muted', `${str(row.who)} · ${str(row.channel)} · ${formatTime(row.received_at)} · ${num(row.attempts)} tries`);
      const text = textEl('p', 'set-aside-text', str(row.text));
      const reason = el('p', 'muted', str(row.reason));
      const retry = el('button', '', 'Retry');
      retry.type = 'button';
      retry.addEventListener('click', safe(async () => {
        retry.disabled = true;
        const done = await post(`${API}/set-aside/${encodeURIComponent(str(row.seq))}/retry`);
        if (!done.ok) showNotice(`Could not retry: ${done.error}`);
        await loadSetAside();
        if (ui.setAsideBtn.hidden) closeSetAside(); else ui.setAsideClose.focus();
      }));
      li.append(head, text, reason, retry);
      return li;
    }));
  }
  function openSetAside() {
    helpReturnFocus = document.activeElement;
    ui.setAside.hidden = false;
    ui.setAsideClose.focus();
    void loadSetAside();
  }
  function closeSetAside() {
    ui.setAside.hidden = true;
    if (helpReturnFocus && helpReturnFocus.focus) helpReturnFocus.focus();
  }

  // Escape closes the innermost thing open, else leaves the text field.
  function onEscape() {
    if (!ui.order.hidden) closeOrder();
    else if (!ui.team.hidden) closeTeam();
    else if (!ui.numbers.hidden) closeNumbers();
    else if (!ui.setAside.hidden) closeSetAside();
    else if (!ui.help.hidden) closeHelp();
    else if (menuOpen()) { closeMenus(); focusReply(); }
    else if (ui.layout.classList.contains('panel-open')) setPanel(false);
    else if (document.activeElement && document.activeElement !== document.body) document.activeElement.blur();
  }

  const SHORTCUTS = {
    r: focusReply,
    j: () => moveInList(1),
    k: () => moveInList(-1),
    t: takeOver,
    n: nextWaiting,
    '/': () => ui.search.focus(),
    '?': openHelp,
  };

  // Single-key shortcuts can be turned off (WCAG 2.1.4), remembered in this browser.
  const SHORTCUTS_KEY = 'souk.console.shortcuts';
  function shortcutsOn() {
    try { return localStorage.getItem(SHORTCUTS_KEY) !== 'off'; } catch { return true; }
  }

  // A modal dialog keeps the keyboard inside it: Tab from its last control goes to its
  // first, Shift+Tab from its first to its last.
  function trapFocus(ev) {
    const open = [...document.querySelectorAll('.overlay')].find((o) => !o.hidden);
    if (!open) return false;
    const focusable = [...open.querySelectorAll('button, [href], input, select, textarea, [tabindex]:not([tabindex="-1"])')]
      .filter((e) => !e.disabled && !e.hidden && e.offsetParent !== null);
    if (!focusable.length) return false;
    const first = focusable[0];
    const last = focusable[focusable.length - 1];
    const inside = open.contains(document.activeElement);
    if (!inside || (ev.shiftKey && document.activeElement === first)) {
      ev.preventDefault();
      (ev.shiftKey ? last : first).focus();
      return true;
    }
    if (!ev.shiftKey && document.activeElement === last) {
      ev.preventDefault();
      first.focus();
      return true;
    }
    return false;
  }

  function onKeydown(ev) {
    if (ev.key === 'Escape') { onEscape(); return; }
    if (ev.key === 'Tab') { trapFocus(ev); return; }
    if (!shortcutsOn()) return;
    if ([...document.querySelectorAll('.overlay')].some((o) => !o.hidden) || ev.ctrlKey || ev.metaKey || ev.altKey || isTyping(ev.target)) return;
    // Taking over from a focused list row would act on another conversation than the row.
    if (ev.key === 't' && ui.list.contains(ev.target)) return;
    const action = SHORTCUTS[ev.key];
    if (!action) return;
    ev.preventDefault(); // e.g. "/" would open the browser's quick find
    return action();
  }

  // ---------- layout (tablet/phone) ----------
  function setPanel(open) {
    ui.layout.classList.toggle('panel-open', open);
    ui.panelBtn.setAttribute('aria-expanded', String(open));
    if (open) ui.panelClose.focus();
  }

  // ---------- wiring ----------
  function wire() {
    for (const b of ui.filters) b.addEventListener('click', () => setFilter(b.dataset.filter));
    ui.channel.addEventListener('change', () => { state.channel = ui.channel.value; void refreshList(); });
    ui.search.addEventListener('input', debounce(() => { state.q = ui.search.value.trim(); void refreshList(); }, 250));

    ui.back.addEventListener('click', () => { ui.layout.classList.remove('show-conv'); rowFor(state.open)?.focus(); });
    ui.panelBtn.addEventListener('click', () => setPanel(!ui.layout.classList.contains('panel-open')));
    ui.panelClose.addEventListener('click', () => { setPanel(false); ui.panelBtn.focus(); });

    ui.takeover.addEventListener('click', safe(takeOver));
    ui.handback.addEventListener('click', safe(() => handBack(false)));
    ui.resolve.addEventListener('click', safe(() => handBack(true)));
    ui.assign.addEventListener('change', safe(() => assignTo(ui.assign.value)));

    ui.composer.addEventListener('submit', (ev) => { ev.preventDefault(); safe(submitComposer)(); });
    ui.replyText.addEventListener('keydown', (ev) => {
      // Enter sends, Shift+Enter is a new line; never while an IME is composing.
      if (ev.key !== 'Enter' || ev.shiftKey || ev.isComposing) return;
      ev.preventDefault();
      safe(submitComposer)();
    });
    ui.noteMode.addEventListener('click', toggleNoteMode);
    ui.canned.addEventListener('click', safe(openCanned));
    ui.product.addEventListener('click', safe(openProductPicker));
    ui.productSearch.addEventListener('input', debounce(safe(searchProducts), 250));
    ui.paylink.addEventListener('click', safe(sendPaymentLink));
    document.addEventListener('click', (ev) => {
      if (menuOpen() && !ev.target.closest('.menu-wrap')) closeMenus();
    });

    ui.notice.addEventListener('click', hideNotice);
    ui.eraseCustomer.addEventListener('click', safe(eraseCustomer));
    // The address's fragment names the open conversation: the skip link moves focus only.
    ui.skipToConversation.addEventListener('click', (ev) => { ev.preventDefault(); ui.convName.focus(); });
    ui.shortcutsOn.checked = shortcutsOn();
    ui.shortcutsOn.addEventListener('change', () => {
      try { localStorage.setItem(SHORTCUTS_KEY, ui.shortcutsOn.checked ? 'on' : 'off'); } catch { /* kept for this page only */ }
    });
    ui.helpBtn.addEventListener('click', openHelp);
    ui.setAsideBtn.addEventListener('click', openSetAside);
    ui.alerts.addEventListener('click', safe(toggleAlerts));
    ui.teamBtn.addEventListener('click', openTeam);
    ui.numbersBtn.addEventListener('click', openNumbers);
    ui.numbersClose.addEventListener('click', closeNumbers);
    ui.numbersRange.addEventListener('submit', (ev) => { ev.preventDefault(); void loadNumbers(); });
    ui.numbersBy.addEventListener('change', renderNumbers);
    ui.numbersChannel.addEventListener('change', renderNumbers);
    ui.orderClose.addEventListener('click', closeOrder);
    ui.teamClose.addEventListener('click', closeTeam);
    ui.teamAdd.addEventListener('submit', safe(inviteColleague));
    showAlertsState();
    ui.setAsideClose.addEventListener('click', closeSetAside);
    ui.setAside.addEventListener('click', (ev) => { if (ev.target === ui.setAside) closeSetAside(); });
    ui.helpClose.addEventListener('click', closeHelp);
    ui.help.addEventListener('click', (ev) => { if (ev.target === ui.help) closeHelp(); });
    ui.logout.addEventListener('click', safe(logout));
    document.addEventListener('keydown', safe(onKeydown));
    // Coming back to the tab: refresh, which also marks the open conversation read.
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'visible' && state.me) {
        scheduleListRefresh();
        if (state.open) scheduleConvRefresh();
      }
    });
    window.addEventListener('unhandledrejection', (ev) => { ev.preventDefault(); reportError(ev.reason); });
  }

  async function logout() {
    const res = await post('/console/logout');
    if (res.ok || res.status === 401) location.assign(LOGIN_URL);
    else showNotice(`Could not log out: ${res.error}`);
  }

  async function boot() {
    const res = await request('GET', `${API}/me`);
    if (res.status === 401) return; // request() is already on its way to the login page
    if (!res.ok) {
      showNotice(`Could not start the console: ${res.error} Retrying…`);
      setTimeout(safe(boot), 5000);
      return;
    }
    state.me = { name: str(res.data.name), role: str(res.data.role) };
    state.csrf = str(res.data.csrf);
    state.translate = res.data.translate ? { language: str(res.data.translate.language), name: str(res.data.translate.name) } : null;
    ui.meName.textContent = str(res.data.display_name) || state.me.name;
    setFilter(state.filter);
    connectEvents();
    setInterval(tickWaiting, WAITING_TICK_MS);
    await loadOperators();
    await loadSetAside();
    ui.teamBtn.hidden = state.me.role !== 'admin';
    ui.numbersBtn.hidden = state.me.role !== 'admin';
    setInterval(safe(loadSetAside), 60000);
    // A link or reload with #<customer> reopens that conversation.
    let fromHash = '';
    try { fromHash = decodeURIComponent(location.hash.slice(1)); } catch { /* malformed: ignore */ }
    if (fromHash) await openConversation(fromHash);
  }

  wire();
  safe(boot)();
})();
