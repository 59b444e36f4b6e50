// The web chat client: log in or register, then the conversations (most recent first, with
// unread counts), a conversation's history (scrolling back 100 at a time), live messages,
// typing, and delivered/read ticks from the receipts — all over the native protocol (REST for
// state, the session's WebSocket for events). See docs/web-client.md.

import { Api } from './api.js';
import { Connection } from './connection.js';
import {
  $, closeConversation, createGroup, openConversation, openPicker, render, renderConversation,
  search, showStatus,
} from './render.js';
import { STORE, failed, handle, loadOlder, readOpen, refresh, send, state, typed } from './store.js';

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
  state.ended = stop;
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
