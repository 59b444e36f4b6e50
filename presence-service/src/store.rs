//! The presence store contract: online sessions per gateway node and typing state, with expiry.
//!
//! A session is online from `session_online` until its expiry (`ttl` after the last
//! `session_online` or `refresh` naming it), or until `session_offline`. A gateway node that dies
//! stops refreshing, so its sessions go offline on their own. A session is identified by its user,
//! its node and its session id: the same session id held by two nodes (a reconnect landing on
//! another gateway) counts twice until the old node lets go of it or stops refreshing it.

use std::collections::HashSet;
use std::future::Future;
use std::time::Duration;

/// Joins node id and session id where a store keeps them as one string; node ids never contain
/// it (the service rejects such ids).
pub const MEMBER_SEPARATOR: char = '|';

/// Where one online user can be reached.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserLocation {
    pub user_id: String,
    /// Distinct nodes holding at least one live session of the user, sorted.
    pub node_ids: Vec<String>,
    /// Number of live sessions of the user over all nodes.
    pub sessions: u32,
}

/// The store could not be reached or answered nonsense. Its cause is for logs, not for clients.
#[derive(Debug, thiserror::Error)]
#[error("presence store failed: {source}")]
pub struct StoreError {
    source: Box<dyn std::error::Error + Send + Sync>,
}

impl StoreError {
    pub fn new(source: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self {
            source: source.into(),
        }
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Online sessions and typing state. Implemented on Redis ([`crate::RedisPresence`]) for
/// deployments with several replicas, and in memory ([`crate::MemoryPresence`]) for the
/// single-process mode; one conformance suite (`tests/presence/conformance.rs`) holds both to
/// the same behaviour.
pub trait PresenceStore: Send + Sync + 'static {
    /// Marks `session_id` of `user_id` online on `node_id` until `ttl` from now.
    fn session_online(
        &self,
        user_id: &str,
        session_id: &str,
        node_id: &str,
        ttl: Duration,
    ) -> impl Future<Output = StoreResult<()>> + Send;

    /// Marks `session_id` of `user_id` on `node_id` offline at once; the user's other sessions
    /// stay.
    fn session_offline(
        &self,
        user_id: &str,
        session_id: &str,
        node_id: &str,
    ) -> impl Future<Output = StoreResult<()>> + Send;

    /// A node's heartbeat: every listed `(user_id, session_id)` is online on `node_id` until `ttl`
    /// from now, including sessions that had already expired (the node still holds them).
    fn refresh(
        &self,
        node_id: &str,
        sessions: &[(String, String)],
        ttl: Duration,
    ) -> impl Future<Output = StoreResult<()>> + Send;

    /// The online users among `user_ids`, in the order first listed, each once; offline and
    /// unknown users are left out.
    fn locate(
        &self,
        user_ids: &[String],
    ) -> impl Future<Output = StoreResult<Vec<UserLocation>>> + Send;

    /// How many live sessions each node holds, by node id; nodes holding none are left out.
    /// For the operator's counts: it reads every online user.
    fn online_by_node(&self) -> impl Future<Output = StoreResult<Vec<(String, u64)>>> + Send;

    /// Starts (`typing`, expiring after `ttl`) or stops `user_id` typing in `conversation_id`.
    /// `ttl` is ignored when stopping.
    fn set_typing(
        &self,
        conversation_id: &str,
        user_id: &str,
        typing: bool,
        ttl: Duration,
    ) -> impl Future<Output = StoreResult<()>> + Send;

    /// Who is typing in `conversation_id` now, sorted by user id.
    fn list_typing(
        &self,
        conversation_id: &str,
    ) -> impl Future<Output = StoreResult<Vec<String>>> + Send;
}

/// `user_ids` without repeats, in the order first listed: what `locate` answers for.
pub(crate) fn distinct(user_ids: &[String]) -> Vec<&str> {
    let mut seen = HashSet::with_capacity(user_ids.len());
    user_ids
        .iter()
        .map(String::as_str)
        .filter(|user_id| seen.insert(*user_id))
        .collect()
}
