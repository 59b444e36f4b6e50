//! Events to and from this replica. Ephemeral events a gateway makes (typing, revocations) go
//! to their recipients wherever they are connected: this replica's connections directly, other
//! replicas through the bus — only the replicas presence says they are on. Conversation events
//! arrive from chat-service's log relay; this replica follows the log's positions and, when it
//! sees it missed some (a gap in what the relay sent it, or a lost subscription), reads the
//! missing range from chat-service and delivers it before anything newer.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use chat_proto::chat::{LogHeadRequest, ReadLogRequest};
use chat_proto::events::bus_message::Kind;
use chat_proto::events::{BusMessage, Delivery, LogBatch};
use chat_proto::presence::{LocateRequest, RefreshRequest, SessionRef};
use prost::Message as _;
use service_runtime::bus::{BusEvent, EventBus};
use tokio::sync::{Notify, mpsc};

use crate::hub::Hub;
use crate::services::{Chat, Presence};

/// Log entries read per repair call.
const REPAIR_PAGE: u32 = 500;
/// Users asked about per repair call.
const REPAIR_USERS: usize = 10_000;
/// Most sockets refreshed in one presence call.
const REFRESH_BATCH: usize = 10_000;

/// Keeps this replica's sockets online in presence, which routes the log's events here. When
/// presence lost them for a while (a failed heartbeat, Redis restarted), events were routed
/// elsewhere or nowhere: `resync` tells the follower to read what it missed.
#[derive(Clone)]
pub struct Announcer {
    pub hub: Arc<Hub>,
    pub presence: Presence,
    pub node_id: String,
    pub resync: Arc<Notify>,
}

impl Announcer {
    /// Marks every socket of this replica online again.
    pub async fn refresh(&self) -> Result<(), tonic::Status> {
        let sockets = self.hub.sockets();
        for batch in sockets.chunks(REFRESH_BATCH) {
            let request = RefreshRequest {
                node_id: self.node_id.clone(),
                sessions: batch
                    .iter()
                    .map(|(user_id, socket_id)| SessionRef {
                        user_id: user_id.clone(),
                        session_id: socket_id.clone(),
                    })
                    .collect(),
                ttl_ms: crate::websocket::PRESENCE_TTL.as_millis() as u64,
            };
            self.presence.clone().refresh(request).await?;
        }
        Ok(())
    }

    /// Refreshes presence every heartbeat; after a failed one, asks for a resync once presence
    /// answers again.
    pub async fn heartbeat(self) {
        let mut ticks = tokio::time::interval(crate::websocket::PRESENCE_HEARTBEAT);
        ticks.tick().await;
        let mut failed = false;
        loop {
            ticks.tick().await;
            match self.refresh().await {
                Ok(()) if failed => {
                    failed = false;
                    self.resync.notify_one();
                }
                Ok(()) => {}
                Err(status) => {
                    failed = true;
                    tracing::warn!(code = ?status.code(), message = status.message(), "presence heartbeat failed");
                }
            }
        }
    }

    /// Refreshes presence, retrying until it answers.
    async fn refresh_until_done(&self) {
        until_answered("mark sockets online", || self.refresh()).await;
    }
}

/// Calls a service until it answers, backing off up to a second between tries: what this
/// replica follows cannot go on without the answer.
async fn until_answered<T, F, C>(what: &str, mut call: C) -> T
where
    C: FnMut() -> F,
    F: std::future::Future<Output = Result<T, tonic::Status>>,
{
    let mut backoff = Duration::from_millis(50);
    loop {
        match call().await {
            Ok(answer) => return answer,
            Err(status) => {
                tracing::warn!(code = ?status.code(), message = status.message(), "cannot {what} yet");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(1));
            }
        }
    }
}

pub struct Fanout {
    pub node_id: String,
    pub hub: Arc<Hub>,
    pub bus: Arc<dyn EventBus>,
    pub presence: Presence,
}

impl Fanout {
    /// Delivers to `delivery.user_ids`. Failures to reach other replicas are logged, not
    /// returned: the event is already stored and recipients recover it by catch-up.
    pub async fn send(&self, delivery: Delivery) {
        if delivery.user_ids.is_empty() {
            return;
        }
        self.hub.deliver(&delivery);
        let remote = match self.remote_nodes(&delivery.user_ids).await {
            Ok(remote) => remote,
            Err(status) => {
                metrics::counter!("gateway_locate_failures_total").increment(1);
                tracing::warn!(code = ?status.code(), message = status.message(), "cannot locate recipients");
                return;
            }
        };
        for (node, user_ids) in remote {
            let payload = BusMessage {
                kind: Some(Kind::Delivery(Box::new(Delivery {
                    user_ids,
                    ..delivery.clone()
                }))),
            }
            .encode_to_vec();
            metrics::counter!("gateway_pubsub_published_total").increment(1);
            if let Err(error) = self.bus.publish(&node, payload).await {
                metrics::counter!("gateway_pubsub_publish_failures_total").increment(1);
                tracing::warn!(%node, error = %format!("{error:#}"), "cannot publish to a replica");
            }
        }
    }

    /// The other replicas the users are connected to, with the users on each.
    async fn remote_nodes(
        &self,
        user_ids: &[String],
    ) -> Result<BTreeMap<String, Vec<String>>, tonic::Status> {
        let located = self
            .presence
            .clone()
            .locate(LocateRequest {
                user_ids: user_ids.to_vec(),
            })
            .await?
            .into_inner();
        let mut nodes: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for location in located.online {
            for node in location.node_ids {
                if node != self.node_id {
                    nodes
                        .entry(node)
                        .or_default()
                        .push(location.user_id.clone());
                }
            }
        }
        Ok(nodes)
    }
}

/// Follows what the bus brings this replica, in log order, until the bus closes.
pub struct Follower {
    hub: Arc<Hub>,
    announcer: Announcer,
    chat: Chat,
    /// The position up to which this replica has everything the relay meant for it.
    followed: i64,
}

impl Follower {
    /// Starts at the log's head: connections opened from now on get what comes after it.
    pub async fn start(announcer: Announcer, chat: Chat) -> Self {
        let followed = until_answered("read the log head", || {
            let mut chat = chat.clone();
            async move { chat.log_head(LogHeadRequest {}).await }
        })
        .await
        .into_inner()
        .position;
        Self {
            hub: announcer.hub.clone(),
            announcer,
            chat,
            followed,
        }
    }

    pub async fn run(mut self, mut incoming: mpsc::Receiver<BusEvent>) {
        let resync = self.announcer.resync.clone();
        loop {
            let event = tokio::select! {
                event = incoming.recv() => match event {
                    Some(event) => event,
                    None => return,
                },
                () = resync.notified() => {
                    metrics::counter!("gateway_log_resyncs_total").increment(1);
                    self.repair(None).await;
                    continue;
                }
            };
            match event {
                BusEvent::Resumed => {
                    // Redis may have restarted and lost presence with it: mark the sockets
                    // online first, so what comes next is routed here, then read what did not.
                    metrics::counter!("gateway_log_resyncs_total").increment(1);
                    self.announcer.refresh_until_done().await;
                    self.repair(None).await;
                }
                BusEvent::Message(payload) => {
                    metrics::counter!("gateway_pubsub_received_total").increment(1);
                    match BusMessage::decode(payload.as_slice()) {
                        Ok(BusMessage {
                            kind: Some(Kind::Delivery(delivery)),
                        }) => self.hub.deliver(&delivery),
                        Ok(BusMessage {
                            kind: Some(Kind::Log(batch)),
                        }) => self.follow(batch).await,
                        Ok(_) => {}
                        Err(error) => tracing::warn!(%error, "dropping an undecodable bus message"),
                    }
                }
            }
        }
    }

    async fn follow(&mut self, batch: LogBatch) {
        let Some(first) = batch.entries.first().map(|e| e.position) else {
            return;
        };
        // The relay says what it sent before; if that is not what we have, something between
        // was lost (or the relay restarted and cannot say): read it before going on.
        if batch.after != self.followed && first - 1 > self.followed {
            metrics::counter!("gateway_log_gaps_total").increment(1);
            self.repair(Some(first - 1)).await;
        }
        for entry in &batch.entries {
            self.hub.deliver_logged(entry);
            self.followed = self.followed.max(entry.position);
        }
    }

    /// Delivers what the log holds for this replica's users after `followed` (up to `up_to`),
    /// retrying until chat-service answers.
    async fn repair(&mut self, up_to: Option<i64>) {
        let users = self.hub.user_ids();
        let mut reached = self.followed;
        for chunk in users.chunks(REPAIR_USERS) {
            let mut after = self.followed;
            loop {
                let request = ReadLogRequest {
                    after_position: after,
                    up_to_position: up_to.unwrap_or(0),
                    user_ids: chunk.to_vec(),
                    limit: REPAIR_PAGE,
                };
                let page = self.read(request).await;
                for entry in &page.entries {
                    self.hub.deliver_logged(entry);
                    after = entry.position;
                }
                metrics::counter!("gateway_log_repaired_total")
                    .increment(page.entries.len() as u64);
                if !page.has_more {
                    break;
                }
            }
            reached = reached.max(after);
        }
        self.followed = up_to.unwrap_or(reached).max(self.followed);
    }

    async fn read(&self, request: ReadLogRequest) -> chat_proto::chat::ReadLogResponse {
        until_answered("read the missed log range", || {
            let (mut chat, request) = (self.chat.clone(), request.clone());
            async move { chat.read_log(request).await }
        })
        .await
        .into_inner()
    }
}
