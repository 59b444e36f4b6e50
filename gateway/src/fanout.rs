//! Sending an event to its recipients wherever they are connected: this replica's connections
//! directly, other replicas through the bus — only the replicas presence says they are on.

use std::collections::BTreeMap;
use std::sync::Arc;

use chat_proto::events::Delivery;
use chat_proto::presence::LocateRequest;
use prost::Message as _;

use crate::bus::EventBus;
use crate::hub::Hub;
use crate::services::Presence;

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
            let payload = Delivery {
                user_ids,
                ..delivery.clone()
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

    /// Feeds what other replicas publish to this one into the hub, until the bus closes.
    pub async fn relay(hub: Arc<Hub>, mut incoming: tokio::sync::mpsc::Receiver<Vec<u8>>) {
        while let Some(payload) = incoming.recv().await {
            metrics::counter!("gateway_pubsub_received_total").increment(1);
            match Delivery::decode(payload.as_slice()) {
                Ok(delivery) => hub.deliver(&delivery),
                Err(error) => tracing::warn!(%error, "dropping an undecodable delivery"),
            }
        }
    }
}
