// The client's state and how it changes: conversations loaded over REST, the socket's events
// (messages kept once each by seq, receipts, typing, membership), sends that survive a
// reconnect, and the names of people. It renders through render.js.

import { Api, ApiError } from './api.js';
import {
  $, closeConversation, openConversation, render, renderList, renderMessages, renderTyping, toast,
} from './render.js';

/** Per tab (sessionStorage): two windows may be two users, and a reload keeps you logged in. */
export const STORE = 'chat-backend.session';
const PAGE = 100;
/** How long a typing indicator lasts without news (the server's expiry). */
const TYPING_MS = 10_000;
/** Typing started is repeated at most this often while typing; ended after this much quiet. */
const TYPING_REPEAT_MS = 3_000;
const TYPING_QUIET_MS = 4_000;

export const state = {
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
  /** Called when the session is over (app.js: back to the login form). */
  ended: null,
};


// ---- state from REST -----------------------------------------------------------------------

/** After every (re)connect: the conversations as they are now, and any gap in the open one. */
export async function refresh() {
  const first = !state.loadedOnce;
  const groups = await state.api.groups();
  const listed = new Set(groups.map((group) => group.id));
  for (const id of state.conversations.keys()) if (!listed.has(id)) state.conversations.delete(id);
  for (const group of groups) merge(group);
  if (state.current && !state.conversations.has(state.current)) state.current = null;
  state.loadedOnce = true;
  render();
  for (const conversation of state.conversations.values()) {
    if (!conversation.loaded) continue;
    await fillGap(conversation);
    if (!isOpen(conversation)) acknowledge(conversation, 41);
  }
  if (state.current) await openConversation(state.current, false);
  resendPending();
  if (first) await previews(groups.slice(0, 30));
}

/** A conversation from its REST form, keeping watermarks the events already moved further. */
export function merge(group) {
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
    // Our own watermarks as the server has them: a receipt sent into a socket that was dying
    // is then sent again (acknowledge). Others' may be behind the events already seen.
    const known = member.user_id === state.session?.userId ? null : conversation.members.get(member.user_id);
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
export async function previews(groups) {
  await Promise.all(groups.filter((group) => group.last_seq > 0).map(async (group) => {
    const page = await state.api.messages(group.id, { limit: 1 }).catch(() => null);
    const conversation = state.conversations.get(group.id);
    if (!page || !conversation) return;
    for (const message of page.messages) noteMessage(conversation, message, false);
  }));
  renderList();
}

export async function ensureConversation(id) {
  if (state.conversations.has(id)) return state.conversations.get(id);
  try {
    return merge(await state.api.group(id));
  } catch (error) {
    if (error instanceof ApiError && (error.status === 403 || error.status === 404)) return null;
    throw error;
  }
}

export async function loadNewest(conversation) {
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
export async function loadOlder(conversation) {
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
export async function fillGap(conversation) {
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

export async function handle(event) {
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
export function noteMessage(conversation, message, live) {
  const mine = message.user_id === state.session.userId;
  if (conversation.loaded || live) addMessage(conversation, message);
  if (!conversation.preview || conversation.preview.seq <= message.seq) conversation.preview = message;
  conversation.lastSeq = Math.max(conversation.lastSeq, message.seq);
  conversation.activity = Math.max(conversation.activity, message.created_at);
  if (message.client_message_id) conversation.pending.delete(message.client_message_id);
  const me = conversation.members.get(state.session.userId);
  if (!me) return;
  if (isOpen(conversation)) {
    acknowledge(conversation, 42);
  } else if (mine) {
    // Our own message, sent from elsewhere: ours is read, unless it would cover others' unread.
    const others = [...conversation.messages.values()]
      .some((held) => held.seq > me.read && held.user_id !== state.session.userId);
    if (!others && message.seq > me.read) receipt(42, conversation, message);
  } else if (conversation.messages.has(message.seq)) {
    acknowledge(conversation, 41);
  } else if (message.seq > me.delivered) {
    receipt(41, conversation, message);
  }
}

/** Marks what is held of a conversation delivered (41) or read (42). A receipt event reaches
 * only the sender of the message it names, while the watermark covers everything before it: so
 * each sender's newest message above the watermark is named, in seq order, and every sender
 * hears of theirs. */
export function acknowledge(conversation, method) {
  const me = conversation.members.get(state.session.userId);
  if (!me) return;
  const mark = method === 42 ? me.read : me.delivered;
  // Only up to the first seq not held yet: naming a later message (our own, say) would cover
  // one still on its way without its sender ever hearing of it.
  let top = Infinity;
  if (conversation.loaded && conversation.messages.size) {
    top = Math.max(mark, Math.min(...conversation.messages.keys()) - 1);
    while (conversation.messages.has(top + 1)) top += 1;
  }
  const newest = new Map();
  for (const message of conversation.messages.values()) {
    if (message.seq <= mark || message.seq > top) continue;
    const known = newest.get(message.user_id);
    if (!known || known.seq < message.seq) newest.set(message.user_id, message);
  }
  for (const message of [...newest.values()].sort((a, b) => a.seq - b.seq)) {
    receipt(method, conversation, message);
  }
}

export function receipt(method, conversation, message) {
  const me = conversation.members.get(state.session.userId);
  me.delivered = Math.max(me.delivered, message.seq);
  if (method === 42) me.read = Math.max(me.read, message.seq);
  state.connection?.send(method, { message_id: message.message_id });
}

export function addMessage(conversation, message) {
  if (!conversation.messages.has(message.seq)) conversation.messages.set(message.seq, message);
  want(message.user_id);
}

export function isOpen(conversation) {
  return state.current === conversation.id && document.visibilityState === 'visible';
}

/** Reads what is held of the open conversation, if the tab is visible. */
export function readOpen() {
  const conversation = state.conversations.get(state.current);
  if (conversation && isOpen(conversation)) acknowledge(conversation, 42);
}

export function startTyping(groupId, userId) {
  if (!state.typing.has(groupId)) state.typing.set(groupId, new Map());
  const typing = state.typing.get(groupId);
  clearTimeout(typing.get(userId));
  typing.set(userId, setTimeout(() => stopTyping(groupId, userId), TYPING_MS));
  want(userId);
  renderTyping();
}

export function stopTyping(groupId, userId) {
  const typing = state.typing.get(groupId);
  if (!typing?.has(userId)) return;
  clearTimeout(typing.get(userId));
  typing.delete(userId);
  renderTyping();
}

// ---- sending -------------------------------------------------------------------------------

export function send(text) {
  const conversation = state.conversations.get(state.current);
  if (!conversation || !text.trim()) return;
  const id = crypto.randomUUID();
  conversation.pending.set(id, { client_message_id: id, data: text, created_at: Date.now() });
  typed(false);
  state.connection.sendNow(40, { group_id: conversation.id, data: text, client_message_id: id });
  renderMessages(true);
}

/** Sends still unanswered go again after a reconnect: the server stores each one once. */
export function resendPending() {
  for (const conversation of state.conversations.values()) {
    for (const pending of conversation.pending.values()) {
      state.connection.sendNow(40, {
        group_id: conversation.id, data: pending.data, client_message_id: pending.client_message_id,
      });
    }
  }
}

/** Typing started (repeated while typing) and ended (on quiet, or when sent). */
export function typed(typing) {
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

export function want(userId) {
  if (!userId || state.people.has(userId) || state.wanted.has(userId)) return;
  state.wanted.add(userId);
  queueMicrotask(fetchPeople);
}

export async function fetchPeople() {
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

export function nameOf(userId) {
  return state.people.get(userId)?.username ?? '…';
}

export function title(conversation) {
  if (conversation.kind === 'direct') {
    const peer = [...conversation.members.keys()].find((id) => id !== state.session.userId);
    return peer ? nameOf(peer) : conversation.name || 'direct chat';
  }
  return conversation.name || 'unnamed group';
}

export function unread(conversation) {
  const me = conversation.members.get(state.session.userId);
  return Math.max(0, conversation.lastSeq - (me?.read ?? 0));
}

/** Reports an error; a 401 means the session is over. */
export function failed(error) {
  if (error instanceof ApiError && error.status === 401 && state.session) {
    state.ended?.('Your session has ended; log in again.');
    return;
  }
  console.error(error);
  toast(error.message ?? String(error));
}
