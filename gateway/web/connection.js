// The session's WebSocket (its messaging_url), kept open: on any drop it reconnects with
// exponential backoff and jitter, resuming after the log position of the last event it saw
// (`?position=` in the socket's URL: the missed events come first, in order, then the live
// ones), so nothing is missed and the position only ever moves past what arrived; the app drops what it
// already has by message id and seq, so nothing is shown twice. Requests made while away wait
// in a queue and go out once the socket is back (sends carry a client_message_id, so a send
// that did reach the server before the drop is stored once).
//
// It connects to the page's own origin with the path of messaging_url: behind a proxy or a
// load balancer the page and its socket go through the same door.

const FIRST_DELAY_MS = 250;
const MOST_DELAY_MS = 5000;

export class Connection extends EventTarget {
  constructor(messagingUrl) {
    super();
    const path = new URL(messagingUrl).pathname;
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    this.url = `${scheme}//${location.host}${path}`;
    this.position = null;
    this.attempt = 0;
    this.queue = [];
    this.socket = null;
    this.stopped = false;
    this.state = 'connecting';
  }

  start() {
    this.stopped = false;
    this.open();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    this.socket?.close(1000, 'bye');
    this.socket = null;
  }

  /** Sends now, or when the socket is back. */
  send(method, body) {
    const frame = JSON.stringify({ method, body });
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(frame);
    else this.queue.push(frame);
  }

  /** Sends only if connected: for what is stale by the time a socket is back (typing). */
  sendNow(method, body) {
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify({ method, body }));
  }

  setState(state) {
    if (this.state === state) return;
    this.state = state;
    this.dispatchEvent(new CustomEvent('state', { detail: state }));
  }

  open() {
    const resume = this.position !== null ? `?position=${this.position}` : '';
    const socket = new WebSocket(this.url + resume);
    this.socket = socket;
    socket.onopen = () => {
      if (socket !== this.socket) return;
      this.attempt = 0;
      // Everything after the last event seen comes first (the URL asked for it); the first
      // time, the app loads its state over REST after this socket opened, and what happens
      // from now on arrives live.
      const queued = this.queue.splice(0);
      for (const frame of queued) socket.send(frame);
      this.setState('online');
      this.dispatchEvent(new CustomEvent('open', { detail: { resumed: this.position !== null } }));
    };
    socket.onmessage = (message) => {
      if (socket !== this.socket) return;
      let event;
      try { event = JSON.parse(message.data); } catch { return; }
      if (typeof event.position === 'number' && (this.position === null || event.position > this.position)) {
        this.position = event.position;
      }
      this.dispatchEvent(new CustomEvent('event', { detail: event }));
    };
    socket.onclose = (close) => {
      if (socket !== this.socket) return;
      this.socket = null;
      if (this.stopped) return;
      // 1008: this session was ended (logged out elsewhere, or revoked).
      if (close.code === 1008) {
        this.setState('closed');
        this.dispatchEvent(new CustomEvent('ended'));
        return;
      }
      this.setState('reconnecting');
      const delay = Math.min(MOST_DELAY_MS, FIRST_DELAY_MS * 2 ** this.attempt);
      this.attempt += 1;
      this.timer = setTimeout(() => this.open(), delay / 2 + Math.random() * delay / 2);
    };
  }

  /** Reconnects at once, e.g. when the browser says it is online again. */
  hurry() {
    if (this.stopped || this.socket) return;
    clearTimeout(this.timer);
    this.open();
  }
}
