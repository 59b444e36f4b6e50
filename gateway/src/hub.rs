//! The WebSocket connections open on this replica, by user, and delivery of events to them.
//!
//! Each event is rendered once per dialect, not once per connection, and handed to each
//! connection's bounded outbox; a connection whose outbox is full is closed (1013) rather than
//! buffered without end. Logged events carry their log position: a connection gets each
//! position once, in order, however often the relay or a repair hands it over.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use axum::extract::ws::Utf8Bytes;
use chat_proto::auth::Identity;
use chat_proto::chat::LogEntry;
use chat_proto::events::delivery::Payload;
use chat_proto::events::{Delivery, Sender};
use tokio::sync::{Notify, watch};

use crate::dialect::Dialect;

/// Frames waiting for one slow connection before it is closed.
pub const OUTBOX_CAPACITY: usize = 1024;

/// Close code and reason a connection is told to close with.
pub type CloseOrder = Option<(u16, &'static str)>;

pub mod close_code {
    pub const PROTOCOL_ERROR: u16 = 1002;
    pub const INVALID_DATA: u16 = 1007;
    pub const POLICY: u16 = 1008;
    pub const TOO_BIG: u16 = 1009;
    pub const RESTARTING: u16 = 1012;
    pub const TRY_AGAIN_LATER: u16 = 1013;
}

/// A frame waiting in a connection's outbox, with the log position of its event (0 for what is
/// not logged: typing, replies).
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub position: i64,
    pub frame: Utf8Bytes,
}

/// The hub's handle on one open WebSocket.
pub struct Connection {
    pub socket_id: String,
    pub user_id: String,
    /// The user's stable integer number, which dialects with integer ids show.
    pub user_number: i64,
    pub session_id: String,
    /// The user as the sender of a message, for the deliveries of what they send.
    pub sender: Sender,
    pub dialect: Dialect,
    /// The highest log position handed to this connection.
    last: AtomicI64,
    /// Frames waiting for the socket's task; it allocates only once something waits, so an
    /// idle connection costs nothing here.
    outbox: Mutex<VecDeque<Outgoing>>,
    /// Wakes the socket's task when frames wait.
    waiting: Notify,
    closer: watch::Sender<CloseOrder>,
}

/// An emptied outbox keeps at most this many slots allocated.
const OUTBOX_KEPT: usize = 32;

impl Connection {
    /// Queues a frame; a connection that cannot keep up is told to close.
    pub fn push(&self, position: i64, frame: Utf8Bytes) {
        let mut outbox = self.lock_outbox();
        if outbox.len() >= OUTBOX_CAPACITY {
            drop(outbox);
            self.close_slow();
            return;
        }
        outbox.push_back(Outgoing { position, frame });
        drop(outbox);
        self.waiting.notify_one();
    }

    /// Resolves once frames may be waiting (at once if some were queued since the last take).
    pub async fn frames_waiting(&self) {
        self.waiting.notified().await;
    }

    /// The next waiting frame, if any.
    pub fn take(&self) -> Option<Outgoing> {
        let mut outbox = self.lock_outbox();
        let next = outbox.pop_front();
        if outbox.is_empty() && outbox.capacity() > OUTBOX_KEPT {
            outbox.shrink_to(OUTBOX_KEPT);
        }
        next
    }

    /// After a partial take: wakes the task again for what still waits.
    pub fn more_waiting(&self) {
        if !self.lock_outbox().is_empty() {
            self.waiting.notify_one();
        }
    }

    fn lock_outbox(&self) -> std::sync::MutexGuard<'_, VecDeque<Outgoing>> {
        self.outbox
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Closes a connection that cannot keep up (1013), counting it once.
    pub fn close_slow(&self) {
        if self.close(close_code::TRY_AGAIN_LATER, "too slow to keep up") {
            metrics::counter!("gateway_slow_connections_closed_total").increment(1);
            tracing::info!(socket_id = %self.socket_id, "closing a connection that cannot keep up");
        }
    }

    /// Whether the connection has been ordered closed.
    pub fn closing(&self) -> bool {
        self.closer.borrow().is_some()
    }

    /// Orders the connection closed; true the first time.
    pub fn close(&self, code: u16, reason: &'static str) -> bool {
        let mut first = false;
        self.closer.send_if_modified(|order| {
            first = order.is_none();
            if first {
                *order = Some((code, reason));
            }
            first
        });
        first
    }

    /// This socket as the origin of a write: the event skips it (it gets the reply instead).
    pub fn origin(&self) -> chat_proto::chat::Origin {
        chat_proto::chat::Origin {
            connection_id: self.socket_id.clone(),
            username: self.sender.username.clone(),
            first_name: self.sender.first_name.clone(),
        }
    }

    /// Whether the logged event at `position` is new to this connection; if so, it counts as
    /// handed over.
    fn takes(&self, position: i64) -> bool {
        self.last.fetch_max(position, Ordering::AcqRel) < position
    }

    /// Marks everything up to `position` as handed over (it reaches the client otherwise).
    pub fn handed_up_to(&self, position: i64) {
        self.last.fetch_max(position, Ordering::AcqRel);
    }
}

/// What a connection task waits for besides its frames: its close order.
pub struct Mailbox {
    pub close: watch::Receiver<CloseOrder>,
}

#[derive(Default)]
pub struct Hub {
    users: RwLock<HashMap<String, Vec<Arc<Connection>>>>,
}

impl Hub {
    /// Takes in a socket of the session `identity` names.
    pub fn register(&self, identity: &Identity, dialect: Dialect) -> (Arc<Connection>, Mailbox) {
        let (closer, close) = watch::channel(None);
        let connection = Arc::new(Connection {
            socket_id: uuid::Uuid::new_v4().to_string(),
            user_id: identity.user_id.clone(),
            user_number: identity.user_number,
            session_id: identity.session_id.clone(),
            sender: crate::delivery::sender(identity),
            dialect,
            last: AtomicI64::new(0),
            outbox: Mutex::new(VecDeque::new()),
            waiting: Notify::new(),
            closer,
        });
        self.write()
            .entry(identity.user_id.clone())
            .or_default()
            .push(connection.clone());
        metrics::gauge!("gateway_connections_open", "dialect" => connection.dialect.name())
            .increment(1);
        (connection, Mailbox { close })
    }

    pub fn unregister(&self, connection: &Connection) {
        let mut users = self.write();
        if let Some(list) = users.get_mut(&connection.user_id) {
            let before = list.len();
            list.retain(|c| c.socket_id != connection.socket_id);
            if list.len() < before {
                metrics::gauge!("gateway_connections_open", "dialect" => connection.dialect.name())
                    .decrement(1);
            }
            if list.is_empty() {
                users.remove(&connection.user_id);
            }
        }
    }

    /// Delivers an event that is not logged (typing, revocations) to this replica's connections
    /// of the delivery's users.
    pub fn deliver(&self, delivery: &Delivery) {
        self.hand_over(delivery, 0);
    }

    /// Delivers a logged event to this replica's connections of its recipients, except the
    /// connection that caused it, skipping connections that already have its position.
    pub fn deliver_logged(&self, entry: &LogEntry) {
        if let Some(delivery) = crate::delivery::logged(entry) {
            self.hand_over(&delivery, entry.position);
        }
    }

    fn hand_over(&self, delivery: &Delivery, position: i64) {
        let Some(payload) = &delivery.payload else {
            return;
        };
        let mut rendered = crate::dialect::Rendered::new(delivery, payload);
        let mut delivered = 0u64;
        let users = self.read();
        for user in &delivery.user_ids {
            let Some(connections) = users.get(user) else {
                continue;
            };
            for connection in connections {
                if connection.socket_id == delivery.except_connection_id {
                    continue;
                }
                match payload {
                    Payload::SessionRevoked(revoked) => {
                        if connection.session_id == revoked.session_id {
                            connection.close(close_code::POLICY, "session revoked");
                        }
                    }
                    Payload::UserRevoked(revoked) => {
                        if connection.user_id == revoked.user_id {
                            connection.close(close_code::POLICY, "user deleted");
                        }
                    }
                    _ => {
                        if position > 0 && !connection.takes(position) {
                            continue;
                        }
                        if connection.dialect == Dialect::PlatformPoll {
                            // Woken, not written to: it reads what arrived from the log.
                            connection.waiting.notify_one();
                        } else if let Some(frame) = rendered.for_connection(connection) {
                            connection.push(position, frame);
                            delivered += 1;
                        }
                    }
                }
            }
        }
        metrics::counter!("gateway_events_queued_total").increment(delivered);
    }

    /// The users with a connection here, for reading what this replica missed.
    pub fn user_ids(&self) -> Vec<String> {
        self.read().keys().cloned().collect()
    }

    /// Every live connection: (user id, socket id), for the presence heartbeat.
    pub fn sockets(&self) -> Vec<(String, String)> {
        self.read()
            .values()
            .flatten()
            .map(|c| (c.user_id.clone(), c.socket_id.clone()))
            .collect()
    }

    pub fn connection_count(&self) -> usize {
        self.read().values().map(Vec::len).sum()
    }

    pub fn close_all(&self, code: u16, reason: &'static str) {
        for connection in self.read().values().flatten() {
            connection.close(code, reason);
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<String, Vec<Arc<Connection>>>> {
        self.users
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<String, Vec<Arc<Connection>>>> {
        self.users
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
