//! What the tool puts in a message and reads back: `(sender, sequence)` and the scheduled send
//! time ride in the message text (and in `client_message_id`, so that acknowledgements can be
//! matched), and events are parsed without copying their bodies.

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::json;

pub const MESSAGE: u16 = 20;
pub const MESSAGE_SENT: u16 = 21;
pub const ERROR: u16 = 99;

/// Who sent a message, its place in the sender's sequence, and when it was scheduled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    pub sender: u32,
    pub seq: u32,
    pub sent_ns: u64,
}

const TAG: &str = "cb";

impl Stamp {
    /// `cb <sender> <seq> <sent_ns>` padded with `x` to at least `size` bytes.
    pub fn text(&self, size: usize) -> String {
        let mut text = format!("{TAG} {} {} {} ", self.sender, self.seq, self.sent_ns);
        if text.len() < size {
            text.extend(std::iter::repeat_n('x', size - text.len()));
        }
        text
    }

    pub fn client_message_id(&self) -> String {
        format!("{TAG}.{}.{}.{}", self.sender, self.seq, self.sent_ns)
    }

    pub fn parse_text(text: &str) -> Option<Stamp> {
        Self::parse_fields(text.split(' '))
    }

    pub fn parse_client_message_id(id: &str) -> Option<Stamp> {
        Self::parse_fields(id.split('.'))
    }

    fn parse_fields<'a>(mut fields: impl Iterator<Item = &'a str>) -> Option<Stamp> {
        if fields.next()? != TAG {
            return None;
        }
        Some(Stamp {
            sender: fields.next()?.parse().ok()?,
            seq: fields.next()?.parse().ok()?,
            sent_ns: fields.next()?.parse().ok()?,
        })
    }

    /// Method 40 sending this stamp to `group_id`.
    pub fn request(&self, group_id: &str, size: usize) -> String {
        json!({
            "method": 40,
            "body": {
                "group_id": group_id,
                "data": self.text(size),
                "client_message_id": self.client_message_id(),
            }
        })
        .to_string()
    }
}

/// Method 20: every event after the log `position` of the last event seen (exact).
pub fn catch_up(position: i64) -> String {
    json!({"method": 20, "position": position}).to_string()
}

/// The fields of an event the tool looks at.
#[derive(Debug, Deserialize)]
pub struct Event<'a> {
    #[serde(rename = "type")]
    pub kind: u16,
    #[serde(default)]
    pub timestamp: i64,
    /// The event's place in the server's log, for resuming exactly after it.
    #[serde(default)]
    pub position: i64,
    #[serde(default, borrow)]
    pub body: Body<'a>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Body<'a> {
    #[serde(default, borrow)]
    pub data: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub group_id: Option<Cow<'a, str>>,
    #[serde(default)]
    pub seq: Option<i64>,
    #[serde(default, borrow)]
    pub client_message_id: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub code: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub message: Option<Cow<'a, str>>,
}

impl Event<'_> {
    /// The stamp of a message event (20), from its text.
    pub fn message_stamp(&self) -> Option<Stamp> {
        Stamp::parse_text(self.body.data.as_deref()?)
    }

    /// The stamp of an acknowledgement (21), from its client message id.
    pub fn ack_stamp(&self) -> Option<Stamp> {
        Stamp::parse_client_message_id(self.body.client_message_id.as_deref()?)
    }

    /// `code: message` of an error event (99).
    pub fn error_text(&self) -> String {
        format!(
            "{}: {}",
            self.body.code.as_deref().unwrap_or("?"),
            self.body.message.as_deref().unwrap_or("")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_survive_text_and_ids() {
        let stamp = Stamp {
            sender: 7,
            seq: 42,
            sent_ns: 123_456_789,
        };
        let text = stamp.text(64);
        assert_eq!(text.len(), 64);
        assert_eq!(Stamp::parse_text(&text), Some(stamp));
        assert_eq!(
            Stamp::parse_client_message_id(&stamp.client_message_id()),
            Some(stamp)
        );
        assert_eq!(Stamp::parse_text("hello"), None);
    }

    #[test]
    fn events_parse_without_copies() {
        let raw = r#"{"type":20,"timestamp":5,"body":{"message_id":"m","data":"cb 1 2 3 xx","group_id":"g","user_id":"u","seq":9,"created_at":5}}"#;
        let event: Event = serde_json::from_str(raw).unwrap();
        assert_eq!(event.kind, MESSAGE);
        assert_eq!(event.body.seq, Some(9));
        assert_eq!(
            event.message_stamp(),
            Some(Stamp {
                sender: 1,
                seq: 2,
                sent_ns: 3
            })
        );
    }
}
