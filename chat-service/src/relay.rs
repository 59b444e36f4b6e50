//! The log relay: publishes the event log, in position order, to the gateway replicas where the
//! recipients are connected.
//!
//! One replica relays at a time (the store's lease). It publishes from where the last relay
//! stopped (`published`), so events committed while no relay ran — chat-service crashed between
//! a commit and its publish — go out when one runs again; a batch is published again after a
//! failure, and gateways drop positions they already have. Each replica is told, with every
//! batch, the position of the last entry it was sent before (`after`): a replica that did not
//! get that one has a gap, and reads the missing range from chat-service.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use chat_proto::admin::presence_admin_client::PresenceAdminClient;
use chat_proto::chat::LogEntry;
use chat_proto::events::bus_message::Kind;
use chat_proto::events::{BusMessage, LogBatch};
use chat_proto::presence::LocateRequest;
use chat_proto::presence::presence_client::PresenceClient;
use prost::Message as _;
use service_runtime::bus::EventBus;
use service_runtime::grpc::Channel;
use tokio::sync::Notify;
use tonic::transport::Endpoint;

use crate::store::{ChatStore, RelayLease, StoreResult};

/// Entries read and published at once.
const BATCH: u32 = 500;
/// How often the relay looks for events written by other replicas when nothing woke it.
const POLL: Duration = Duration::from_millis(25);
/// How often a replica that is not the relay asks to become it.
const LEASE_RETRY: Duration = Duration::from_secs(1);
/// The shortest time between two passes of a relay that is not behind: under load, a pass then
/// positions and publishes many events with one commit instead of one each — a commit costs
/// Postgres a WAL flush — for at most this much more latency.
const GATHER: Duration = Duration::from_millis(2);
/// How often, at most, the relay saves how far it has published, busy or caught up.
const SAVE_EVERY: Duration = Duration::from_millis(200);
/// Replicas remembered for `after`; beyond it (long-gone replicas) the memory starts over.
const MAX_NODES: usize = 10_000;

/// Where the relay publishes: the bus to the gateways, and presence to find their replicas.
#[derive(Clone)]
pub struct Publisher {
    pub bus: Arc<dyn EventBus>,
    pub presence: PresenceClient<Channel>,
    /// The same presence-service, for the operator's counts.
    pub presence_admin: PresenceAdminClient<Channel>,
}

impl Publisher {
    /// A publisher asking presence at `presence_url` (connected lazily, reconnecting).
    pub fn new(bus: Arc<dyn EventBus>, presence_url: &str) -> anyhow::Result<Self> {
        let endpoint = Endpoint::from_shared(presence_url.to_owned())
            .map_err(|error| anyhow::anyhow!("invalid presence URL {presence_url:?}: {error}"))?
            .connect_timeout(Duration::from_secs(2))
            .timeout(Duration::from_secs(5));
        let channel = service_runtime::grpc::endpoint(endpoint).connect_lazy();
        Ok(Self::over(bus, service_runtime::grpc::remote(channel)))
    }

    /// A publisher asking presence through `channel` (in the single process, the service in
    /// the same process).
    pub fn over(bus: Arc<dyn EventBus>, channel: Channel) -> Self {
        Self {
            bus,
            presence: PresenceClient::new(channel.clone()),
            presence_admin: PresenceAdminClient::new(channel),
        }
    }

    /// Sends each replica the entries for the recipients on it; `sent` remembers, per replica,
    /// the last position it was sent.
    async fn publish(
        &self,
        entries: &[LogEntry],
        sent: &mut HashMap<String, i64>,
    ) -> anyhow::Result<()> {
        let users: BTreeSet<&String> = entries.iter().flat_map(|e| &e.recipient_ids).collect();
        let located = self
            .presence
            .clone()
            .locate(LocateRequest {
                user_ids: users.into_iter().cloned().collect(),
            })
            .await?
            .into_inner();
        let mut nodes_of: HashMap<&str, &[String]> = HashMap::new();
        for location in &located.online {
            nodes_of.insert(&location.user_id, &location.node_ids);
        }
        let mut batches: BTreeMap<&str, Vec<LogEntry>> = BTreeMap::new();
        for entry in entries {
            let mut per_node: BTreeMap<&str, Vec<String>> = BTreeMap::new();
            for user in &entry.recipient_ids {
                for node in nodes_of.get(user.as_str()).copied().unwrap_or_default() {
                    per_node.entry(node).or_default().push(user.clone());
                }
            }
            for (node, recipients) in per_node {
                batches.entry(node).or_default().push(LogEntry {
                    recipient_ids: recipients,
                    ..entry.clone()
                });
            }
        }
        if sent.len() > MAX_NODES {
            sent.clear();
        }
        for (node, entries) in batches {
            let last = entries.last().map_or(0, |e| e.position);
            let message = BusMessage {
                kind: Some(Kind::Log(LogBatch {
                    after: sent.get(node).copied().unwrap_or(-1),
                    entries,
                })),
            };
            self.bus.publish(node, message.encode_to_vec()).await?;
            metrics::counter!("chat_relay_batches_published_total").increment(1);
            sent.insert(node.to_owned(), last);
        }
        Ok(())
    }
}

/// Runs the relay for `store` until the task is dropped. Without a publisher it still gives
/// events their positions (catch-up reads them), publishing nothing.
pub async fn run<S: ChatStore>(store: S, publisher: Option<Publisher>, wake: Arc<Notify>) {
    loop {
        match store.relay_lease().await {
            Ok(Some(lease)) => {
                tracing::info!("relaying the event log");
                if let Err(error) = lead(lease, publisher.as_ref(), &wake).await {
                    tracing::warn!(%error, "the log relay stopped; taking over again");
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Ok(None) => tokio::time::sleep(LEASE_RETRY).await,
            Err(error) => {
                tracing::warn!(%error, "cannot take the log relay's lease yet");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
    }
}

async fn lead<L: RelayLease>(
    mut lease: L,
    publisher: Option<&Publisher>,
    wake: &Notify,
) -> StoreResult<()> {
    let mut published = lease.published().await?;
    let mut saved = published;
    let mut saved_at = tokio::time::Instant::now();
    let mut sent = HashMap::new();
    loop {
        let pass = tokio::time::Instant::now();
        let entries = lease.next(published, BATCH).await?;
        let Some(last) = entries.last().map(|e| e.position) else {
            // Caught up: saved too at most every SAVE_EVERY, so that a relay that catches up
            // after every send batch (moderate rates) does not add a commit to each; once the
            // traffic stops, the idle passes below save within SAVE_EVERY.
            if saved < published && saved_at.elapsed() >= SAVE_EVERY {
                lease.set_published(published).await?;
                (saved, saved_at) = (published, tokio::time::Instant::now());
            }
            tokio::select! {
                () = wake.notified() => {}
                () = tokio::time::sleep(POLL) => {}
            }
            continue;
        };
        if let Some(publisher) = publisher {
            let mut backoff = Duration::from_millis(50);
            while let Err(error) = publisher.publish(&entries, &mut sent).await {
                metrics::counter!("chat_relay_publish_failures_total").increment(1);
                tracing::warn!(error = %format!("{error:#}"), "cannot publish events yet; retrying");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_millis(500));
            }
        }
        metrics::counter!("chat_relay_events_published_total").increment(entries.len() as u64);
        published = last;
        // Saved now and then, not per batch: a relay taking over publishes again from the last
        // saved position, and gateways drop what they already have.
        if saved_at.elapsed() >= SAVE_EVERY {
            lease.set_published(published).await?;
            (saved, saved_at) = (published, tokio::time::Instant::now());
        }
        if entries.len() < BATCH as usize {
            tokio::time::sleep_until(pass + GATHER).await;
        }
    }
}
