//! Presence on Redis, shared by every presence-service replica.
//!
//! Keys (all under the configured prefix):
//! - `{prefix}presence:{user_id}`: sorted set, member `{node_id}|{session_id}`, score = expiry.
//! - `{prefix}typing:{conversation_id}`: sorted set, member `user_id`, score = expiry.
//!
//! Expiries are unix milliseconds on this process's clock (not Redis's `TIME`, which would cost a
//! round trip per call); replicas are assumed NTP-synchronised, so skew shifts an expiry by
//! milliseconds. A member is live while its score is ahead of now; reads skip expired members and
//! writes prune them. Each write also stretches the key's own expiry (`PEXPIRE ... NX` then
//! `... GT`, Redis 7.0+) to cover its newest member, so keys of users who left vanish on their own.

use std::collections::BTreeSet;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{Pipeline, RedisResult};

use crate::store::{
    MEMBER_SEPARATOR, PresenceStore, StoreError, StoreResult, UserLocation, distinct,
};

/// Presence in Redis; clones share one multiplexed, self-reconnecting connection.
#[derive(Clone)]
pub struct RedisPresence {
    redis: ConnectionManager,
    prefix: String,
}

impl RedisPresence {
    /// Connects to `url`, retrying a few times (Redis may start after this service), and writes
    /// keys under `key_prefix`.
    pub async fn connect(url: &str, key_prefix: &str) -> RedisResult<Self> {
        let client = redis::Client::open(url)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(2)))
            // A locate of 10 000 users is one pipeline; leave it room on a busy Redis.
            .set_response_timeout(Some(Duration::from_secs(5)))
            // After Redis restarts, be back within about half a second of it.
            .set_max_delay(Duration::from_millis(500));
        let redis = ConnectionManager::new_with_config(client, config).await?;
        Ok(Self::new(redis, key_prefix))
    }

    /// Uses an existing connection, writing keys under `key_prefix`.
    pub fn new(redis: ConnectionManager, key_prefix: &str) -> Self {
        Self {
            redis,
            prefix: key_prefix.to_owned(),
        }
    }

    fn presence_key(&self, user_id: &str) -> String {
        format!("{}presence:{user_id}", self.prefix)
    }

    fn typing_key(&self, conversation_id: &str) -> String {
        format!("{}typing:{conversation_id}", self.prefix)
    }

    async fn run(&self, pipe: &Pipeline) -> StoreResult<()> {
        pipe.exec_async(&mut self.redis.clone())
            .await
            .map_err(StoreError::from)
    }
}

impl From<redis::RedisError> for StoreError {
    fn from(error: redis::RedisError) -> Self {
        StoreError::new(error)
    }
}

fn now_ms() -> u64 {
    let since_epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    u64::try_from(since_epoch.as_millis()).unwrap_or(u64::MAX)
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// Adds `member` to the sorted set `key` until `now + ttl`: prunes expired members, then makes
/// sure the key outlives the new member.
fn add_until(pipe: &mut Pipeline, key: &str, member: &str, now: u64, ttl: Duration) {
    let ttl_ms = millis(ttl);
    pipe.zrembyscore(key, "-inf", now).ignore();
    pipe.zadd(key, member, now.saturating_add(ttl_ms)).ignore();
    pipe.cmd("PEXPIRE").arg(key).arg(ttl_ms).arg("NX").ignore();
    pipe.cmd("PEXPIRE").arg(key).arg(ttl_ms).arg("GT").ignore();
}

/// The live members of `key`: scores strictly after `now`.
fn live_members(pipe: &mut Pipeline, key: &str, now: u64) {
    pipe.zrangebyscore(key, format!("({now}"), "+inf");
}

impl PresenceStore for RedisPresence {
    async fn session_online(
        &self,
        user_id: &str,
        session_id: &str,
        node_id: &str,
        ttl: Duration,
    ) -> StoreResult<()> {
        let mut pipe = redis::pipe();
        let member = format!("{node_id}{MEMBER_SEPARATOR}{session_id}");
        add_until(
            pipe.atomic(),
            &self.presence_key(user_id),
            &member,
            now_ms(),
            ttl,
        );
        self.run(&pipe).await
    }

    async fn session_offline(
        &self,
        user_id: &str,
        session_id: &str,
        node_id: &str,
    ) -> StoreResult<()> {
        let mut pipe = redis::pipe();
        let member = format!("{node_id}{MEMBER_SEPARATOR}{session_id}");
        pipe.zrem(self.presence_key(user_id), member).ignore();
        self.run(&pipe).await
    }

    async fn refresh(
        &self,
        node_id: &str,
        sessions: &[(String, String)],
        ttl: Duration,
    ) -> StoreResult<()> {
        if sessions.is_empty() {
            return Ok(());
        }
        // One round trip for the whole heartbeat. Not MULTI: each session's commands stand on
        // their own, and a huge transaction would stall Redis for every other client.
        let mut pipe = redis::pipe();
        let now = now_ms();
        for (user_id, session_id) in sessions {
            let member = format!("{node_id}{MEMBER_SEPARATOR}{session_id}");
            add_until(&mut pipe, &self.presence_key(user_id), &member, now, ttl);
        }
        self.run(&pipe).await
    }

    async fn online_by_node(&self) -> StoreResult<Vec<(String, u64)>> {
        // SCAN walks the keyspace a batch at a time without blocking Redis; a key may come
        // twice, so keys are gathered before their members are read.
        let pattern = format!("{}presence:*", glob_escape(&self.prefix));
        let mut redis = self.redis.clone();
        let mut keys = BTreeSet::new();
        let mut cursor: u64 = 0;
        loop {
            let (next, batch): (u64, Vec<String>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(&pattern)
                .arg("COUNT")
                .arg(1000)
                .query_async(&mut redis)
                .await?;
            keys.extend(batch);
            if next == 0 {
                break;
            }
            cursor = next;
        }
        let now = now_ms();
        let mut nodes: std::collections::BTreeMap<String, u64> = std::collections::BTreeMap::new();
        let keys: Vec<String> = keys.into_iter().collect();
        for chunk in keys.chunks(500) {
            let mut pipe = redis::pipe();
            for key in chunk {
                live_members(&mut pipe, key, now);
            }
            let members: Vec<Vec<String>> = pipe.query_async(&mut redis).await?;
            for member in members.iter().flatten() {
                let node = match member.split_once(MEMBER_SEPARATOR) {
                    Some((node_id, _)) => node_id,
                    None => member.as_str(),
                };
                *nodes.entry(node.to_owned()).or_default() += 1;
            }
        }
        Ok(nodes.into_iter().collect())
    }

    async fn locate(&self, user_ids: &[String]) -> StoreResult<Vec<UserLocation>> {
        let user_ids = distinct(user_ids);
        if user_ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut pipe = redis::pipe();
        let now = now_ms();
        for user_id in &user_ids {
            live_members(&mut pipe, &self.presence_key(user_id), now);
        }
        let members: Vec<Vec<String>> = pipe.query_async(&mut self.redis.clone()).await?;
        let located = user_ids
            .into_iter()
            .zip(members)
            .filter(|(_, members)| !members.is_empty())
            .map(|(user_id, members)| {
                let nodes: BTreeSet<&str> = members
                    .iter()
                    .map(|member| match member.split_once(MEMBER_SEPARATOR) {
                        Some((node_id, _)) => node_id,
                        None => member.as_str(),
                    })
                    .collect();
                UserLocation {
                    user_id: user_id.to_owned(),
                    node_ids: nodes.into_iter().map(str::to_owned).collect(),
                    sessions: u32::try_from(members.len()).unwrap_or(u32::MAX),
                }
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
        let key = self.typing_key(conversation_id);
        let mut pipe = redis::pipe();
        if typing {
            add_until(pipe.atomic(), &key, user_id, now_ms(), ttl);
        } else {
            pipe.zrem(&key, user_id).ignore();
        }
        self.run(&pipe).await
    }

    async fn list_typing(&self, conversation_id: &str) -> StoreResult<Vec<String>> {
        let mut pipe = redis::pipe();
        live_members(&mut pipe, &self.typing_key(conversation_id), now_ms());
        let (mut users,): (Vec<String>,) = pipe.query_async(&mut self.redis.clone()).await?;
        users.sort_unstable();
        Ok(users)
    }
}

/// `text` with the glob characters of a `SCAN MATCH` pattern escaped.
fn glob_escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}
