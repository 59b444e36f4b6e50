//! Limits every presence request must keep before it reaches the store.

use std::time::Duration;

use crate::error::PresenceError;
use crate::store::MEMBER_SEPARATOR;

/// Longest expiry a session or typing mark may ask for; a node heartbeats well within it.
pub const MAX_TTL: Duration = Duration::from_secs(10 * 60);
/// Most users per `Locate` and sessions per `Refresh`: one Redis pipeline each.
pub const MAX_BATCH: usize = 10_000;
/// Longest id (user, session, node, conversation) in bytes.
pub const MAX_ID_LEN: usize = 256;

/// A non-empty id of at most [`MAX_ID_LEN`] bytes; `field` names it in the error.
pub fn id(field: &str, value: &str) -> Result<(), PresenceError> {
    if value.is_empty() {
        return Err(invalid(format!("{field} must not be empty")));
    }
    if value.len() > MAX_ID_LEN {
        return Err(invalid(format!(
            "{field} must be at most {MAX_ID_LEN} bytes"
        )));
    }
    Ok(())
}

/// A node id: an [`id`] that also keeps clear of the separator in stored session members.
pub fn node_id(value: &str) -> Result<(), PresenceError> {
    id("node_id", value)?;
    if value.contains(MEMBER_SEPARATOR) {
        return Err(invalid(format!(
            "node_id must not contain {MEMBER_SEPARATOR:?}"
        )));
    }
    Ok(())
}

/// A ttl of 1 ms up to [`MAX_TTL`].
pub fn ttl(ttl_ms: u64) -> Result<Duration, PresenceError> {
    let ttl = Duration::from_millis(ttl_ms);
    if ttl_ms == 0 || ttl > MAX_TTL {
        return Err(invalid(format!(
            "ttl_ms must be between 1 and {}",
            MAX_TTL.as_millis()
        )));
    }
    Ok(ttl)
}

/// At most [`MAX_BATCH`] items; `field` names the list in the error.
pub fn batch(field: &str, len: usize) -> Result<(), PresenceError> {
    if len > MAX_BATCH {
        return Err(invalid(format!(
            "{field} must list at most {MAX_BATCH} entries, got {len}"
        )));
    }
    Ok(())
}

fn invalid(message: String) -> PresenceError {
    PresenceError::Validation(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttl_bounds() {
        assert!(ttl(0).is_err());
        assert_eq!(ttl(1).ok(), Some(Duration::from_millis(1)));
        assert_eq!(ttl(600_000).ok(), Some(MAX_TTL));
        assert!(ttl(600_001).is_err());
    }

    #[test]
    fn ids() {
        assert!(id("user_id", "").is_err());
        assert!(id("user_id", &"u".repeat(MAX_ID_LEN)).is_ok());
        assert!(id("user_id", &"u".repeat(MAX_ID_LEN + 1)).is_err());
        assert!(node_id("node-1").is_ok());
        assert!(node_id("node|1").is_err());
    }

    #[test]
    fn batches() {
        assert!(batch("user_ids", MAX_BATCH).is_ok());
        assert!(batch("user_ids", MAX_BATCH + 1).is_err());
    }
}
