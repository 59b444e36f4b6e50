//! The catch-up feed's ordering and its opaque cursor, shared by every store.
//!
//! Events are ordered by time, then by rank (membership events before the messages of the same
//! instant, receipts after), then by a per-rank order number.

use chrono::{DateTime, Utc};

use crate::error::ChatError;
use crate::store::FeedCursor;

pub const RANK_EVENT: i32 = 0;
pub const RANK_MESSAGE: i32 = 1;
pub const RANK_DELIVERED: i32 = 2;
pub const RANK_READ: i32 = 3;

pub fn encode_cursor(cursor: FeedCursor) -> String {
    format!(
        "{}.{}.{}",
        cursor.at.timestamp_micros(),
        cursor.rank,
        cursor.order
    )
}

pub fn decode_cursor(text: &str) -> Result<FeedCursor, ChatError> {
    let invalid = || ChatError::Validation("invalid catch-up cursor".into());
    let mut parts = text.split('.');
    let (Some(at), Some(rank), Some(order), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(invalid());
    };
    let at: i64 = at.parse().map_err(|_| invalid())?;
    Ok(FeedCursor {
        at: DateTime::<Utc>::from_timestamp_micros(at).ok_or_else(invalid)?,
        rank: rank.parse().map_err(|_| invalid())?,
        order: order.parse().map_err(|_| invalid())?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let cursor = FeedCursor {
            at: DateTime::<Utc>::from_timestamp_micros(1_532_786_953_431_123).unwrap(),
            rank: RANK_READ,
            order: 42,
        };
        assert_eq!(decode_cursor(&encode_cursor(cursor)).unwrap(), cursor);
        assert!(decode_cursor("1.2").is_err());
        assert!(decode_cursor("a.b.c").is_err());
    }
}
