// What the page shows — the list, the open conversation, its members and typing — and what
// its buttons do (open, leave, remove, the people picker).

import {
  failed, loadNewest, loadOlder, merge, nameOf, readOpen, state, title, typed, unread,
} from './store.js';
import { h, clear, clock, initials, hue } from './view.js';

export const $ = (id) => document.getElementById(id);

// ---- rendering -----------------------------------------------------------------------------

export function render() {
  if (!state.session) return;
  renderList();
  renderConversation();
}

export function renderList() {
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
  keepingFocus($('conversations'), () => clear($('conversations'), items.length ? items
    : [h('li', { class: 'empty' }, 'No conversations yet: start a chat or create a group.')]));
}

/** Redraws `container` with `draw`, leaving the keyboard focus on the item it was on. */
function keepingFocus(container, draw) {
  const focused = container.contains(document.activeElement) ? document.activeElement.dataset.id : null;
  draw();
  if (focused) container.querySelector(`[data-id="${CSS.escape(focused)}"]`)?.focus();
}

export function renderConversation() {
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

export function renderMembers(conversation) {
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

export function receiptState(conversation, seq) {
  const others = [...conversation.members.entries()].filter(([id]) => id !== state.session.userId);
  if (!others.length) return 'sent';
  if (others.every(([, m]) => m.read >= seq)) return 'read';
  if (others.every(([, m]) => m.delivered >= seq || m.read >= seq)) return 'delivered';
  return 'sent';
}

const TICKS = { sending: '◷', sent: '✓', delivered: '✓✓', read: '✓✓' };

export function renderMessages(toBottom = false) {
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

export function renderTyping() {
  const typing = state.typing.get(state.current);
  const names = typing ? [...typing.keys()].map(nameOf) : [];
  $('typing').textContent = names.length === 0 ? ''
    : names.length === 1 ? `${names[0]} is typing…` : `${names.join(', ')} are typing…`;
}

export function showStatus(text) {
  const status = $('status');
  status.textContent = text;
  status.hidden = !text;
  status.className = text ? 'away' : '';
}

let toastTimer = null;
export function toast(text) {
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

export async function openConversation(id, focus = true) {
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

export function closeConversation() {
  typed(false);
  state.current = null;
  document.body.classList.remove('in-conversation');
  render();
}

export async function removeMember(conversation, userId) {
  try {
    merge(await state.api.removeMember(conversation.id, userId));
    render();
  } catch (error) { failed(error); }
}

export async function leave(conversation) {
  if (!confirm(`Leave ${title(conversation)}?`)) return;
  try {
    await state.api.leave(conversation.id);
    state.conversations.delete(conversation.id);
    closeConversation();
  } catch (error) { failed(error); }
}

/** The people picker: a direct chat (one click), a new group (several), or a member to add. */
export function openPicker(mode) {
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
export function search(q) {
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
      keepingFocus($('picker-results'), () => clear($('picker-results'), people.length ? people.map((user) => h('li', {},
        h('button', {
          type: 'button', class: 'person', dataset: { id: user.id, username: user.username },
          'aria-pressed': state.picker?.mode === 'group' ? String(state.picker.chosen.has(user.id)) : false,
          onclick: () => pick(user),
        }, user.username))) : [h('li', { class: 'empty' }, 'Nobody found')]));
    } catch (error) {
      $('picker-error').textContent = error.message;
    }
  }, 150);
}

export async function pick(user) {
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

export function renderChosen() {
  const chosen = state.picker ? [...state.picker.chosen.values()] : [];
  $('picker-chosen').textContent = chosen.length
    ? `With: ${chosen.map((user) => user.username).join(', ')}` : '';
}

export async function createGroup() {
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
