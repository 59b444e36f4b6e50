// The native protocol's REST routes (docs/native-protocol.md), on the page's own origin.
// Every failure is an ApiError carrying the server's stable `code` and its message.

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export class Api {
  constructor(token = null) {
    this.token = token;
  }

  async request(method, path, body) {
    const headers = {};
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let response;
    try {
      response = await fetch(path, {
        method, headers, body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch {
      throw new ApiError(0, 'network', 'the server cannot be reached');
    }
    if (response.status === 204) return null;
    const text = await response.text();
    let json = null;
    try { json = text ? JSON.parse(text) : null; } catch { /* not JSON: reported below */ }
    if (!response.ok) {
      const error = json?.error ?? {};
      throw new ApiError(response.status, error.code ?? 'http_' + response.status,
        error.message ?? (text || response.statusText));
    }
    return json;
  }

  register(username, password, email) {
    return this.request('POST', '/users', { username, password, email });
  }
  login(name, password) {
    const who = name.includes('@') ? { email: name } : { username: name };
    return this.request('POST', '/login', { ...who, password });
  }
  openSession() {
    return this.request('POST', '/sessions', {
      device_id: 'web', platform: 'web', model: navigator.userAgent.slice(0, 60), build: 1,
      name: 'web client',
    });
  }
  endSession(id) { return this.request('DELETE', `/sessions/${encodeURIComponent(id)}`); }
  groups() { return this.request('GET', '/groups'); }
  group(id) { return this.request('GET', `/groups/${encodeURIComponent(id)}`); }
  createGroup(name, userIds) { return this.request('POST', '/groups', { name, user_ids: userIds }); }
  addMember(groupId, userId) {
    return this.request('PUT', `/groups/${encodeURIComponent(groupId)}/join`, { user_id: userId });
  }
  removeMember(groupId, userId) {
    return this.request('PUT', `/groups/${encodeURIComponent(groupId)}/left`, { user_id: userId });
  }
  leave(groupId) { return this.request('PUT', `/groups/${encodeURIComponent(groupId)}/left`, {}); }
  /** A page of history, ascending seq: the newest without bounds, or before/after a seq. */
  messages(groupId, { beforeSeq, afterSeq, limit = 100 } = {}) {
    const query = new URLSearchParams({ limit: String(limit) });
    if (beforeSeq) query.set('before_seq', String(beforeSeq));
    if (afterSeq) query.set('after_seq', String(afterSeq));
    return this.request('GET', `/groups/${encodeURIComponent(groupId)}/messages?${query}`);
  }
  findUsers(q) { return this.request('GET', `/users?${new URLSearchParams({ q })}`); }
  usersById(ids) { return this.request('GET', `/users?${new URLSearchParams({ ids: ids.join(',') })}`); }
  direct(userId) { return this.request('PUT', `/users/${encodeURIComponent(userId)}/direct`); }
}
