//! In-process presence for the single-process mode: the same semantics as Redis, in a mutex.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use crate::store::{PresenceStore, StoreResult, UserLocation, distinct};

/// How often a write also drops every expired entry, so that users who never come back (whose
/// entries no later write would touch) do not stay in memory; Redis does this with key expiry.
const SWEEP_INTERVAL: Duration = Duration::from_secs(60);

/// Presence held in this process; clones share the same state.
#[derive(Clone)]
pub struct MemoryPresence {
    state: Arc<Mutex<State>>,
}

/// Entries expire at an `Instant` and are live while it is still ahead.
struct State {
    /// user id → (node id, session id) → expiry
    sessions: HashMap<String, HashMap<(String, String), Instant>>,
    /// conversation id → user id → expiry
    typing: HashMap<String, HashMap<String, Instant>>,
    next_sweep: Instant,
}

impl MemoryPresence {
    pub fn new() -> Self {
        let state = State {
            sessions: HashMap::new(),
            typing: HashMap::new(),
            next_sweep: Instant::now() + SWEEP_INTERVAL,
        };
        Self {
            state: Arc::new(Mutex::new(state)),
        }
    }

    /// The state, swept if due. Every operation leaves the maps consistent, so a panic elsewhere
    /// while holding the lock (poisoning) leaves nothing half-done to recover from.
    fn lock(&self, now: Instant) -> MutexGuard<'_, State> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if now >= state.next_sweep {
            state.sessions.retain(|_, sessions| prune(sessions, now));
            state.typing.retain(|_, users| prune(users, now));
            state.next_sweep = now + SWEEP_INTERVAL;
        }
        state
    }
}

impl Default for MemoryPresence {
    fn default() -> Self {
        Self::new()
    }
}

/// Drops the expired entries of `map`; true if any entry is left.
fn prune<K>(map: &mut HashMap<K, Instant>, now: Instant) -> bool {
    map.retain(|_, expiry| *expiry > now);
    !map.is_empty()
}

impl PresenceStore for MemoryPresence {
    async fn session_online(
        &self,
        user_id: &str,
        session_id: &str,
        node_id: &str,
        ttl: Duration,
    ) -> StoreResult<()> {
        self.refresh(node_id, &[(user_id.to_owned(), session_id.to_owned())], ttl)
            .await
    }

    async fn session_offline(
        &self,
        user_id: &str,
        session_id: &str,
        node_id: &str,
    ) -> StoreResult<()> {
        let now = Instant::now();
        let mut state = self.lock(now);
        if let Some(sessions) = state.sessions.get_mut(user_id) {
            sessions.remove(&(node_id.to_owned(), session_id.to_owned()));
            if !prune(sessions, now) {
                state.sessions.remove(user_id);
            }
        }
        Ok(())
    }

    async fn refresh(
        &self,
        node_id: &str,
        sessions: &[(String, String)],
        ttl: Duration,
    ) -> StoreResult<()> {
        let now = Instant::now();
        let expiry = now + ttl;
        let mut state = self.lock(now);
        for (user_id, session_id) in sessions {
            let held = state.sessions.entry(user_id.clone()).or_default();
            prune(held, now);
            held.insert((node_id.to_owned(), session_id.clone()), expiry);
        }
        Ok(())
    }

    async fn online_by_node(&self) -> StoreResult<Vec<(String, u64)>> {
        let now = Instant::now();
        let state = self.lock(now);
        let mut nodes: BTreeMap<String, u64> = BTreeMap::new();
        for sessions in state.sessions.values() {
            for ((node, _), expiry) in sessions {
                if *expiry > now {
                    *nodes.entry(node.clone()).or_default() += 1;
                }
            }
        }
        Ok(nodes.into_iter().collect())
    }

    async fn locate(&self, user_ids: &[String]) -> StoreResult<Vec<UserLocation>> {
        let now = Instant::now();
        let state = self.lock(now);
        let located = distinct(user_ids)
            .into_iter()
            .filter_map(|user_id| {
                let live: Vec<&(String, String)> = state
                    .sessions
                    .get(user_id)?
                    .iter()
                    .filter(|(_, expiry)| **expiry > now)
                    .map(|(key, _)| key)
                    .collect();
                if live.is_empty() {
                    return None;
                }
                let nodes: BTreeSet<&str> = live.iter().map(|(node, _)| node.as_str()).collect();
                Some(UserLocation {
                    user_id: user_id.to_owned(),
                    node_ids: nodes.into_iter().map(str::to_owned).collect(),
                    sessions: u32::try_from(live.len()).unwrap_or(u32::MAX),
                })
            })
            .collect();
        Ok(located)
    }

    async fn set_typing(
        &self,
        conversation_id: &str,
        user_id: &str,
        typing: bool,
        ttl: Duration,
    ) -> StoreResult<()> {
        let now = Instant::now();
        let mut state = self.lock(now);
        if typing {
            let users = state.typing.entry(conversation_id.to_owned()).or_default();
            prune(users, now);
            users.insert(user_id.to_owned(), now + ttl);
        } else if let Some(users) = state.typing.get_mut(conversation_id) {
            users.remove(user_id);
            if !prune(users, now) {
                state.typing.remove(conversation_id);
            }
        }
        Ok(())
    }

    async fn list_typing(&self, conversation_id: &str) -> StoreResult<Vec<String>> {
        let now = Instant::now();
        let state = self.lock(now);
        let mut users: Vec<String> = state
            .typing
            .get(conversation_id)
            .into_iter()
            .flatten()
            .filter(|(_, expiry)| **expiry > now)
            .map(|(user_id, _)| user_id.clone())
            .collect();
        users.sort_unstable();
        Ok(users)
    }
}
