// The web chat client: log in or register, then the conversations (most recent first, with
// unread counts), a conversation's history (scrolling back 100 at a time), live messages,
// typing, and delivered/read ticks from the receipts — all over the native protocol (REST for
// state, the session's WebSocket for events). See docs/web-client.md.

import { Api, ApiError } from './api.js';
import { Connection } from './connection.js';
import { h, clear, clock, initials, hue } from './view.js';

const $ = (id) => document.getElementById(id);
/** Per tab (sessionStorage): two windows may be two users, and a reload keeps you logged in. */
const STORE = 'chat-backend.session';
const PAGE = 100;
/** How long a typing indicator lasts without news (the server's expiry). */
const TYPING_MS = 10_000;
/** Typing started is repeated at most this often while typing; ended after this much quiet. */
const TYPING_REPEAT_MS = 3_000;
const TYPING_QUIET_MS = 4_000;

const state = {
  api: new Api(),
  session: null,
  connection: null,
  conversations: new Map(),
  people: new Map(),
  wanted: new Set(),
  current: null,
  typing: new Map(),
  typingSent: { group: null, at: 0, timer: null },
  events: Promise.resolve(),
  picker: null,
};

// ---- session -------------------------------------------------------------------------------

async function logIn(name, password) {
  const login = await new Api().login(name, password);
  // A session of its own for this tab (POST /sessions gives its messaging_url); the login's
  // session is ended at once, so one tab is one device.
  const session = await new Api(login.token).openSession();
  const api = new Api(session.token);
  await api.endSession(login.session_id).catch(() => {});
  let username = name;
  if (name.includes('@')) {
    const found = await api.usersById([login.user_id]);
    username = found.users[0]?.username ?? name;
  }
  return {
    token: session.token, sessionId: session.id, userId: login.user_id, username,
    messagingUrl: session.messaging_url, expiresAt: session.expires_at,
  };
}

function start(session) {
  state.session = session;
  state.api = new Api(session.token);
  state.people.set(session.userId, { id: session.userId, username: session.username });
  $('me').textContent = session.username;
  $('welcome').hidden = true;
  $('chat').hidden = false;
  const connection = new Connection(session.messagingUrl);
  state.connection = connection;
  connection.addEventListener('open', () => refresh().catch(failed));
  connection.addEventListener('event', (e) => {
    state.events = state.events.then(() => handle(e.detail)).catch(failed);
  });
  connection.addEventListener('state', (e) => {
    showStatus(e.detail === 'reconnecting' ? 'reconnecting…' : '');
    // A socket refused again and again may be a session that ended: REST says so with a 401.
    if (e.detail === 'reconnecting' && connection.attempt >= 3) state.api.groups().catch(failed);
  });
  connection.addEventListener('ended', () => stop('This session was ended.'));
  connection.start();
  showStatus('connecting…');
  render();
}

function stop(message = '') {
  state.connection?.stop();
  state.connection = null;
  sessionStorage.removeItem(STORE);
  for (const timers of state.typing.values()) for (const timer of timers.values()) clearTimeout(timer);
  Object.assign(state, {
    session: null, api: new Api(), conversations: new Map(), people: new Map(), current: null,
    typing: new Map(), events: Promise.resolve(), loadedOnce: false,
  });
  $('chat').hidden = true;
  $('welcome').hidden = false;
  $('welcome-error').textContent = message;
  showStatus('');
  document.body.classList.remove('in-conversation');
  $('login-form').elements.namedItem('name').focus();
}

async function logOut() {
  const { api, session } = state;
  stop();
  await api.endSession(session.sessionId).catch(() => {});
}

function failed(error) {
  if (error instanceof ApiError && error.status === 401 && state.session) {
    stop('Your session has ended; log in again.');
    return;
  }
  console.error(error);
  toast(error.message ?? String(error));
}

// ---- state from REST -----------------------------------------------------------------------

/** After every (re)connect: the conversations as they are now, and any gap in the open one. */
async function refresh() {
  const first = !state.loadedOnce;
  const groups = await state.api.groups();
  const listed = new Set(groups.map((group) => group.id));
  for (const id of state.conversations.keys()) if (!listed.has(id)) state.conversations.delete(id);
  for (const group of groups) merge(group);
  if (state.current && !state.conversations.has(state.current)) state.current = null;
  state.loadedOnce = true;
  render();
  for (const conversation of state.conversations.values()) {
    if (conversation.loaded) await fillGap(conversation);
  }
  if (state.current) await openConversation(state.current, false);
  resendPending();
  if (first) await previews(groups.slice(0, 30));
}

/** A conversation from its REST form, keeping watermarks the events already moved further. */
function merge(group) {
  let conversation = state.conversations.get(group.id);
  if (!conversation) {
    conversation = {
      id: group.id, messages: new Map(), pending: new Map(), members: new Map(),
      loaded: false, hasMore: true, loading: false, activity: 0, lastSeq: 0, preview: null,
    };
    state.conversations.set(group.id, conversation);
  }
  Object.assign(conversation, {
    kind: group.kind ?? 'group', name: group.name, ownerId: group.owner_id,
    lastSeq: Math.max(conversation.lastSeq, group.last_seq),
    activity: Math.max(conversation.activity, group.updated_at),
  });
  const members = new Map();
  for (const member of group.members) {
    const known = conversation.members.get(member.user_id);
    members.set(member.user_id, {
      role: member.role,
      delivered: Math.max(member.last_delivered_seq, known?.delivered ?? 0),
      read: Math.max(member.last_read_seq, known?.read ?? 0),
    });
    want(member.user_id);
  }
  conversation.members = members;
  return conversation;
}

/** The newest message of each conversation: its preview, and a delivered receipt. */
async function previews(groups) {
  await Promise.all(groups.filter((group) => group.last_seq > 0).map(async (group) => {
    const page = await state.api.messages(group.id, { limit: 1 }).catch(() => null);
    const conversation = state.conversations.get(group.id);
    if (!page || !conversation) return;
    for (const message of page.messages) noteMessage(conversation, message, false);
  }));
  renderList();
}

async function ensureConversation(id) {
  if (state.conversations.has(id)) return state.conversations.get(id);
  try {
    return merge(await state.api.group(id));
  } catch (error) {
    if (error instanceof ApiError && (error.status === 403 || error.status === 404)) return null;
    throw error;
  }
}

async function loadNewest(conversation) {
  conversation.loading = true;
  try {
    const page = await state.api.messages(conversation.id, { limit: PAGE });
    for (const message of page.messages) addMessage(conversation, message);
    conversation.hasMore = page.has_more && Math.min(...conversation.messages.keys()) > 1;
    conversation.loaded = true;
  } finally {
    conversation.loading = false;
  }
  await fillGap(conversation);
}

/** Scroll-back: the 100 messages before the oldest shown. */
async function loadOlder(conversation) {
  if (conversation.loading || !conversation.hasMore || !conversation.loaded) return;
  const oldest = Math.min(...conversation.messages.keys());
  if (!Number.isFinite(oldest) || oldest <= 1) { conversation.hasMore = false; return; }
  conversation.loading = true;
  const list = $('messages');
  const fromBottom = list.scrollHeight - list.scrollTop;
  try {
    const page = await state.api.messages(conversation.id, { beforeSeq: oldest, limit: PAGE });
    for (const message of page.messages) addMessage(conversation, message);
    conversation.hasMore = page.has_more && Math.min(...conversation.messages.keys()) > 1;
  } finally {
    conversation.loading = false;
  }
  if (state.current === conversation.id) {
    renderMessages();
    list.scrollTop = list.scrollHeight - fromBottom;
  }
}

/** Whatever lies between the newest message held and the conversation's last seq. */
async function fillGap(conversation) {
  let newest = conversation.messages.size ? Math.max(...conversation.messages.keys()) : 0;
  while (conversation.loaded && newest < conversation.lastSeq) {
    const page = await state.api.messages(conversation.id, { afterSeq: newest, limit: PAGE });
    for (const message of page.messages) addMessage(conversation, message);
    const reached = page.messages.length ? page.messages[page.messages.length - 1].seq : newest;
    if (reached <= newest || !page.has_more) break;
    newest = reached;
  }
}

// ---- events --------------------------------------------------------------------------------

async function handle(event) {
  const body = event.body ?? {};
  switch (event.type) {
    case 20: { // a message
      const conversation = await ensureConversation(body.group_id);
      if (!conversation) return;
      const gap = conversation.loaded && conversation.messages.size
        && body.seq > Math.max(...conversation.messages.keys()) + 1;
      conversation.lastSeq = Math.max(conversation.lastSeq, body.seq);
      if (gap) await fillGap(conversation);
      noteMessage(conversation, body, true);
      stopTyping(conversation.id, body.user_id);
      break;
    }
    case 21: { // our send stored
      const conversation = state.conversations.get(body.group_id);
      const pending = conversation?.pending.get(body.client_message_id);
      if (!pending) return;
      conversation.pending.delete(body.client_message_id);
      noteMessage(conversation, {
        ...body, user_id: state.session.userId, data: pending.data,
      }, true);
      break;
    }
    case 22: case 23: { // delivered / read by someone
      const conversation = state.conversations.get(body.group_id);
      const member = conversation?.members.get(body.user_id);
      if (!member) return;
      member.delivered = Math.max(member.delivered, body.seq);
      if (event.type === 23) member.read = Math.max(member.read, body.seq);
      if (state.current === conversation.id) renderMessages();
      renderList();
      return;
    }
    case 40: case 41: { // typing started / ended
      if (body.user_id === state.session.userId) return;
      if (event.type === 40) startTyping(body.group_id, body.user_id);
      else stopTyping(body.group_id, body.user_id);
      return;
    }
    case 70: case 72: case 73: { // created, joined, left
      if (event.type === 73 && body.user_id === state.session.userId) {
        state.conversations.delete(body.group_id);
        if (state.current === body.group_id) closeConversation();
      } else {
        const group = await state.api.group(body.group_id).catch((error) => {
          if (error instanceof ApiError && (error.status === 403 || error.status === 404)) return null;
          throw error;
        });
        if (group) merge(group);
        else state.conversations.delete(body.group_id);
      }
      break;
    }
    case 99:
      toast(body.message ?? 'the server refused a request');
      return;
    default:
      return;
  }
  render();
}

/** A message seen (live, caught up, or a preview): kept once, and receipted. */
function noteMessage(conversation, message, live) {
  const mine = message.user_id === state.session.userId;
  if (conversation.loaded || live) addMessage(conversation, message);
  if (!conversation.preview || conversation.preview.seq <= message.seq) conversation.preview = message;
  conversation.lastSeq = Math.max(conversation.lastSeq, message.seq);
  conversation.activity = Math.max(conversation.activity, message.created_at);
  if (message.client_message_id) conversation.pending.delete(message.client_message_id);
  const me = conversation.members.get(state.session.userId);
  if (!me) return;
  if (mine) {
    // What we wrote ourselves is read: keep our own watermark (and unread count) with it.
    if (message.seq > me.read) receipt(42, conversation, message);
  } else if (isOpen(conversation)) {
    if (message.seq > me.read) receipt(42, conversation, message);
  } else if (message.seq > me.delivered) {
    receipt(41, conversation, message);
  }
}

function receipt(method, conversation, message) {
  const me = conversation.members.get(state.session.userId);
  me.delivered = Math.max(me.delivered, message.seq);
  if (method === 42) me.read = Math.max(me.read, message.seq);
  state.connection?.send(method, { message_id: message.message_id });
}

function addMessage(conversation, message) {
  if (!conversation.messages.has(message.seq)) conversation.messages.set(message.seq, message);
  want(message.user_id);
}

function isOpen(conversation) {
  return state.current === conversation.id && document.visibilityState === 'visible';
}

/** Reads the newest message of the open conversation, if it is not read yet. */
function readOpen() {
  const conversation = state.conversations.get(state.current);
  if (!conversation || !isOpen(conversation) || !conversation.messages.size) return;
  const newest = conversation.messages.get(Math.max(...conversation.messages.keys()));
  const me = conversation.members.get(state.session.userId);
  if (me && newest.seq > me.read) receipt(42, conversation, newest);
}

function startTyping(groupId, userId) {
  if (!state.typing.has(groupId)) state.typing.set(groupId, new Map());
  const typing = state.typing.get(groupId);
  clearTimeout(typing.get(userId));
  typing.set(userId, setTimeout(() => stopTyping(groupId, userId), TYPING_MS));
  want(userId);
  renderTyping();
}

function stopTyping(groupId, userId) {
  const typing = state.typing.get(groupId);
  if (!typing?.has(userId)) return;
  clearTimeout(typing.get(userId));
  typing.delete(userId);
  renderTyping();
}

// ---- sending -------------------------------------------------------------------------------

function send(text) {
  const conversation = state.conversations.get(state.current);
  if (!conversation || !text.trim()) return;
  const id = crypto.randomUUID();
  conversation.pending.set(id, { client_message_id: id, data: text, created_at: Date.now() });
  typed(false);
  state.connection.sendNow(40, { group_id: conversation.id, data: text, client_message_id: id });
  renderMessages(true);
}

/** Sends still unanswered go again after a reconnect: the server stores each one once. */
function resendPending() {
  for (const conversation of state.conversations.values()) {
    for (const pending of conversation.pending.values()) {
      state.connection.sendNow(40, {
        group_id: conversation.id, data: pending.data, client_message_id: pending.client_message_id,
      });
    }
  }
}

/** Typing started (repeated while typing) and ended (on quiet, or when sent). */
function typed(typing) {
  const sent = state.typingSent;
  clearTimeout(sent.timer);
  const now = Date.now();
  if (!typing) {
    if (sent.group) state.connection?.sendNow(61, { group_id: sent.group });
    sent.group = null;
    return;
  }
  if (sent.group !== state.current || now - sent.at > TYPING_REPEAT_MS) {
    if (sent.group && sent.group !== state.current) state.connection.sendNow(61, { group_id: sent.group });
    sent.group = state.current;
    sent.at = now;
    state.connection.sendNow(60, { group_id: state.current });
  }
  sent.timer = setTimeout(() => typed(false), TYPING_QUIET_MS);
}

// ---- people --------------------------------------------------------------------------------

function want(userId) {
  if (!userId || state.people.has(userId) || state.wanted.has(userId)) return;
  state.wanted.add(userId);
  queueMicrotask(fetchPeople);
}

async function fetchPeople() {
  const ids = [...state.wanted].filter((id) => !state.people.has(id)).slice(0, 100);
  if (!ids.length || !state.session || state.fetchingPeople) return;
  state.fetchingPeople = true;
  try {
    const found = await state.api.usersById(ids);
    for (const user of found.users) state.people.set(user.id, user);
    for (const id of ids) {
      state.wanted.delete(id);
      if (!state.people.has(id)) state.people.set(id, { id, username: 'someone' });
    }
    render();
  } catch (error) {
    failed(error);
  } finally {
    state.fetchingPeople = false;
  }
  if (state.wanted.size) queueMicrotask(fetchPeople);
}

function nameOf(userId) {
  return state.people.get(userId)?.username ?? '…';
}

function title(conversation) {
  if (conversation.kind === 'direct') {
    const peer = [...conversation.members.keys()].find((id) => id !== state.session.userId);
    return peer ? nameOf(peer) : conversation.name || 'direct chat';
  }
  return conversation.name || 'unnamed group';
}

function unread(conversation) {
  const me = conversation.members.get(state.session.userId);
  return Math.max(0, conversation.lastSeq - (me?.read ?? 0));
}

// ---- rendering -----------------------------------------------------------------------------

function render() {
  if (!state.session) return;
  renderList();
  renderConversation();
}

function renderList() {
  if (!state.session) return;
  const sorted = [...state.conversations.values()].sort((a, b) => b.activity - a.activity);
  const items = sorted.map((conversation) => {
    const count = unread(conversation);
    const name = title(conversation);
    const preview = conversation.preview;
    return h('li', {},
      h('button', {
        type: 'button', class: 'conversation-item', dataset: { id: conversation.id },
        'aria-current': state.current === conversation.id ? 'true' : false,
        onclick: () => openConversation(conversation.id),
      },
      h('span', { class: 'avatar', style: { '--hue': String(hue(name)) }, 'aria-hidden': 'true' },
        conversation.kind === 'direct' ? initials(name) : '#'),
      h('span', { class: 'item-text' },
        h('span', { class: 'item-name' }, name),
        h('span', { class: 'item-preview' }, preview
          ? `${preview.user_id === state.session.userId ? 'You' : nameOf(preview.user_id)}: ${preview.data}`
          : (conversation.kind === 'direct' ? 'direct chat' : `${conversation.members.size} members`))),
      count ? h('span', { class: 'badge', 'aria-label': `${count} unread` }, String(count)) : null));
  });
  clear($('conversations'), items.length ? items
    : [h('li', { class: 'empty' }, 'No conversations yet: start a chat or create a group.')]);
}

function renderConversation() {
  const conversation = state.conversations.get(state.current);
  $('composer').hidden = !conversation;
  $('details').hidden = !conversation;
  if (!conversation) {
    $('title').textContent = 'Pick a conversation';
    $('members').hidden = true;
    clear($('messages'));
    renderTyping();
    return;
  }
  $('title').textContent = title(conversation);
  renderMembers(conversation);
  renderMessages();
  renderTyping();
}

function renderMembers(conversation) {
  const panel = $('members');
  const open = $('details').getAttribute('aria-expanded') === 'true';
  panel.hidden = !open;
  if (!open) return;
  const me = state.session.userId;
  const owner = conversation.ownerId === me;
  const group = conversation.kind !== 'direct';
  const rows = [...conversation.members.entries()].map(([id, member]) => h('li', {},
    h('span', {}, nameOf(id), id === me ? ' (you)' : '', member.role === 'owner' ? ' · owner' : ''),
    group && owner && id !== me
      ? h('button', { type: 'button', class: 'quiet', onclick: () => removeMember(conversation, id) }, 'Remove')
      : null));
  clear(panel,
    h('ul', { class: 'member-list' }, rows),
    group ? h('div', { class: 'member-actions' },
      h('button', { type: 'button', onclick: () => openPicker('add') }, 'Add member'),
      h('button', { type: 'button', class: 'danger', onclick: () => leave(conversation) }, 'Leave group'))
      : null);
}

function receiptState(conversation, seq) {
  const others = [...conversation.members.entries()].filter(([id]) => id !== state.session.userId);
  if (!others.length) return 'sent';
  if (others.every(([, m]) => m.read >= seq)) return 'read';
  if (others.every(([, m]) => m.delivered >= seq || m.read >= seq)) return 'delivered';
  return 'sent';
}

const TICKS = { sending: '◷', sent: '✓', delivered: '✓✓', read: '✓✓' };

function renderMessages(toBottom = false) {
  const conversation = state.conversations.get(state.current);
  const list = $('messages');
  if (!conversation) return;
  const atBottom = toBottom || list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  const me = state.session.userId;
  const group = conversation.kind !== 'direct';
  const seqs = [...conversation.messages.keys()].sort((a, b) => a - b);
  const rows = [];
  if (conversation.hasMore && conversation.loaded) {
    rows.push(h('button', {
      type: 'button', class: 'quiet older', onclick: () => loadOlder(conversation).catch(failed),
    }, conversation.loading ? 'Loading…' : 'Show earlier messages'));
  } else if (conversation.loaded) {
    rows.push(h('p', { class: 'beginning' }, 'The beginning of this conversation'));
  }
  const bubble = (message, status) => {
    const mine = message.user_id === me;
    return h('div', {
      class: mine ? 'message mine' : 'message',
      dataset: { seq: message.seq ?? '', id: message.message_id ?? message.client_message_id },
    },
    group && !mine ? h('span', { class: 'author' }, nameOf(message.user_id)) : null,
    h('span', { class: 'text' }, message.data),
    h('span', { class: 'meta' }, clock(message.created_at),
      mine ? h('span', {
        class: `receipt ${status}`, dataset: { state: status }, title: status, 'aria-label': status,
      }, TICKS[status]) : null));
  };
  for (const seq of seqs) {
    const message = conversation.messages.get(seq);
    rows.push(bubble(message, message.user_id === me ? receiptState(conversation, seq) : null));
  }
  for (const pending of conversation.pending.values()) {
    rows.push(bubble({ ...pending, user_id: me }, 'sending'));
  }
  clear(list, rows);
  if (atBottom) list.scrollTop = list.scrollHeight;
}

function renderTyping() {
  const typing = state.typing.get(state.current);
  const names = typing ? [...typing.keys()].map(nameOf) : [];
  $('typing').textContent = names.length === 0 ? ''
    : names.length === 1 ? `${names[0]} is typing…` : `${names.join(', ')} are typing…`;
}

function showStatus(text) {
  const status = $('status');
  status.textContent = text;
  status.hidden = !text;
  status.className = text ? 'away' : '';
}

let toastTimer = null;
function toast(text) {
  const status = $('status');
  if (state.connection?.state === 'reconnecting') return;
  status.textContent = text;
  status.hidden = false;
  status.className = 'notice';
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => {
    if (status.className === 'notice') showStatus('');
  }, 4000);
}

// ---- actions -------------------------------------------------------------------------------

async function openConversation(id, focus = true) {
  const conversation = state.conversations.get(id);
  if (!conversation) return;
  if (state.current !== id) {
    typed(false);
    state.current = id;
    document.body.classList.add('in-conversation');
  }
  render();
  if (!conversation.loaded && !conversation.loading) {
    await loadNewest(conversation).catch(failed);
    if (state.current === id) renderMessages(true);
  }
  readOpen();
  renderList();
  if (focus) $('text').focus();
}

function closeConversation() {
  typed(false);
  state.current = null;
  document.body.classList.remove('in-conversation');
  render();
}

async function removeMember(conversation, userId) {
  try {
    merge(await state.api.removeMember(conversation.id, userId));
    render();
  } catch (error) { failed(error); }
}

async function leave(conversation) {
  if (!confirm(`Leave ${title(conversation)}?`)) return;
  try {
    await state.api.leave(conversation.id);
    state.conversations.delete(conversation.id);
    closeConversation();
  } catch (error) { failed(error); }
}

/** The people picker: a direct chat (one click), a new group (several), or a member to add. */
function openPicker(mode) {
  state.picker = { mode, chosen: new Map() };
  const titles = { direct: 'Start a direct chat', group: 'Create a group', add: 'Add a member' };
  $('picker-title').textContent = titles[mode];
  $('group-name-label').hidden = mode !== 'group';
  $('group-name').value = '';
  $('picker-ok').hidden = mode !== 'group';
  $('picker-search').value = '';
  $('picker-error').textContent = '';
  renderChosen();
  $('picker').showModal();
  (mode === 'group' ? $('group-name') : $('picker-search')).focus();
  search('');
}

let searchTimer = null;
let searchSerial = 0;
function search(q) {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(async () => {
    const serial = ++searchSerial;
    try {
      const found = await state.api.findUsers(q.trim());
      if (serial !== searchSerial) return;
      const current = state.conversations.get(state.current);
      const people = found.users.filter((user) => user.id !== state.session.userId
        && !(state.picker?.mode === 'add' && current?.members.has(user.id)));
      for (const user of people) state.people.set(user.id, user);
      clear($('picker-results'), people.length ? people.map((user) => h('li', {},
        h('button', {
          type: 'button', class: 'person', dataset: { id: user.id, username: user.username },
          'aria-pressed': state.picker?.mode === 'group' ? String(state.picker.chosen.has(user.id)) : false,
          onclick: () => pick(user),
        }, user.username))) : [h('li', { class: 'empty' }, 'Nobody found')]);
    } catch (error) {
      $('picker-error').textContent = error.message;
    }
  }, 150);
}

async function pick(user) {
  const picker = state.picker;
  try {
    if (picker.mode === 'direct') {
      const group = await state.api.direct(user.id);
      merge(group);
      $('picker').close();
      await openConversation(group.id);
    } else if (picker.mode === 'add') {
      merge(await state.api.addMember(state.current, user.id));
      $('picker').close();
      render();
    } else {
      if (picker.chosen.has(user.id)) picker.chosen.delete(user.id);
      else picker.chosen.set(user.id, user);
      renderChosen();
      search($('picker-search').value);
    }
  } catch (error) {
    $('picker-error').textContent = error.message;
  }
}

function renderChosen() {
  const chosen = state.picker ? [...state.picker.chosen.values()] : [];
  $('picker-chosen').textContent = chosen.length
    ? `With: ${chosen.map((user) => user.username).join(', ')}` : '';
}

async function createGroup() {
  const name = $('group-name').value.trim();
  if (!name) { $('picker-error').textContent = 'A group needs a name'; $('group-name').focus(); return; }
  try {
    const group = await state.api.createGroup(name, [...state.picker.chosen.keys()]);
    merge(group);
    $('picker').close();
    await openConversation(group.id);
  } catch (error) {
    $('picker-error').textContent = error.message;
  }
}

// ---- wiring --------------------------------------------------------------------------------

function formValues(form) {
  return Object.fromEntries(new FormData(form).entries());
}

async function welcome(event, register) {
  event.preventDefault();
  const form = event.target;
  const values = formValues(form);
  const button = form.querySelector('button');
  button.disabled = true;
  $('welcome-error').textContent = '';
  try {
    if (register) await new Api().register(values.username.trim(), values.password, values.email.trim());
    const session = await logIn(register ? values.username.trim() : values.name.trim(), values.password);
    sessionStorage.setItem(STORE, JSON.stringify(session));
    form.reset();
    start(session);
  } catch (error) {
    $('welcome-error').textContent = error.message;
  } finally {
    button.disabled = false;
  }
}

function wire() {
  $('login-form').addEventListener('submit', (e) => welcome(e, false));
  $('register-form').addEventListener('submit', (e) => welcome(e, true));
  $('logout').addEventListener('click', logOut);
  $('new-direct').addEventListener('click', () => openPicker('direct'));
  $('new-group').addEventListener('click', () => openPicker('group'));
  $('back').addEventListener('click', closeConversation);
  $('details').addEventListener('click', () => {
    const button = $('details');
    button.setAttribute('aria-expanded', String(button.getAttribute('aria-expanded') !== 'true'));
    renderConversation();
  });
  $('picker-search').addEventListener('input', (e) => search(e.target.value));
  $('picker-form').addEventListener('submit', (e) => {
    if (e.submitter?.value === 'ok') { e.preventDefault(); createGroup(); }
  });
  $('picker').addEventListener('close', () => { state.picker = null; });
  $('messages').addEventListener('scroll', () => {
    const conversation = state.conversations.get(state.current);
    if (conversation && $('messages').scrollTop < 60) loadOlder(conversation).catch(failed);
  });
  const text = $('text');
  text.addEventListener('input', () => {
    text.style.height = 'auto';
    text.style.height = `${Math.min(text.scrollHeight, 160)}px`;
    typed(text.value.length > 0);
  });
  text.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      $('composer').requestSubmit();
    }
  });
  $('composer').addEventListener('submit', (e) => {
    e.preventDefault();
    send(text.value);
    text.value = '';
    text.style.height = 'auto';
  });
  document.addEventListener('keydown', (e) => {
    if (!state.session || $('picker').open) return;
    if (e.altKey && e.key.toLowerCase() === 'n') { e.preventDefault(); openPicker('direct'); }
    if (e.altKey && e.key.toLowerCase() === 'g') { e.preventDefault(); openPicker('group'); }
    if (e.altKey && (e.key === 'ArrowUp' || e.key === 'ArrowDown')) {
      e.preventDefault();
      const items = [...document.querySelectorAll('.conversation-item')];
      const at = items.findIndex((item) => item.dataset.id === state.current);
      const next = items[Math.max(0, Math.min(items.length - 1, at + (e.key === 'ArrowUp' ? -1 : 1)))];
      if (next) openConversation(next.dataset.id);
    }
    if (e.key === 'Escape' && state.current) closeConversation();
  });
  document.addEventListener('visibilitychange', readOpen);
  window.addEventListener('online', () => state.connection?.hurry());
}

wire();
const saved = sessionStorage.getItem(STORE);
if (saved) {
  try { start(JSON.parse(saved)); } catch { stop(); }
} else {
  stop();
}
