//! The client dialects a connection may speak, and rendering an event once per dialect.

use axum::extract::ws::Utf8Bytes;
use chat_proto::events::Delivery;
use chat_proto::events::delivery::Payload;

use crate::hub::Connection;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dialect {
    /// The native protocol: numeric events in `{"type","timestamp","body"}` envelopes.
    Native,
    /// The e_chat_server dialect (`/v1`): a socket per room that shows only the messages of
    /// that conversation.
    Echat { conversation_id: String },
    /// The messenger dialect (`/`): pushes of the messages that reach the user from others.
    Messenger,
    /// The web-app dialect (`/socket`): room and group messages, and announcements to every
    /// online user.
    Webapp,
    /// A long poll of the platform dialect (`GET /messages?wait=`): any event for the user
    /// wakes it, and it reads what arrived from the log.
    PlatformPoll,
}

impl Dialect {
    /// The dialect's name, for metrics.
    pub fn name(&self) -> &'static str {
        match self {
            Dialect::Native => "native",
            Dialect::Echat { .. } => "echat",
            Dialect::Messenger => "messenger",
            Dialect::Webapp => "webapp",
            Dialect::PlatformPoll => "platform",
        }
    }
}

/// An event's frames, rendered lazily and at most once per dialect.
pub struct Rendered<'a> {
    delivery: &'a Delivery,
    payload: &'a Payload,
    native: Option<Option<Utf8Bytes>>,
    /// The message's conversation and its frame; the same for every room socket that shows it.
    echat: Option<Option<(&'a str, Utf8Bytes)>>,
    /// The message's sender and its push; the same for every other member's socket.
    messenger: Option<Option<(String, Utf8Bytes)>>,
    webapp: Option<Option<Utf8Bytes>>,
}

impl<'a> Rendered<'a> {
    pub fn new(delivery: &'a Delivery, payload: &'a Payload) -> Self {
        Self {
            delivery,
            payload,
            native: None,
            echat: None,
            messenger: None,
            webapp: None,
        }
    }

    /// The frame this connection gets, if its dialect shows this event at all.
    pub fn for_connection(&mut self, connection: &Connection) -> Option<Utf8Bytes> {
        match &connection.dialect {
            Dialect::Native => self
                .native
                .get_or_insert_with(|| crate::native::events::render(self.payload))
                .clone(),
            Dialect::Echat { conversation_id } => {
                let (room, frame) = self
                    .echat
                    .get_or_insert_with(|| crate::echat::render::event(self.payload))
                    .as_ref()?;
                (room == conversation_id).then(|| frame.clone())
            }
            Dialect::Messenger => {
                let (sender, frame) = self
                    .messenger
                    .get_or_insert_with(|| crate::messenger::render::push(self.delivery))
                    .as_ref()?;
                (*sender != connection.user_id).then(|| frame.clone())
            }
            Dialect::Webapp => self
                .webapp
                .get_or_insert_with(|| crate::webapp::render::event(self.delivery))
                .clone(),
            // A long poll reads from the log once woken: it is sent no frames (see Hub).
            Dialect::PlatformPoll => None,
        }
    }
}
