//! The bus that carries events to gateway replicas: one channel per replica, so an event goes
//! only to the replicas where its recipients are connected. chat-service's log relay and the
//! gateways publish on it. It is a doorbell, not storage: a replica that misses something (it
//! sees a gap in the log, or its subscription was lost) reads the range again from chat-service.

mod memory;
mod redis;

use futures_util::future::BoxFuture;
use tokio::sync::mpsc;

pub use self::memory::MemoryBus;
pub use self::redis::RedisBus;

/// Deliveries a subscriber may fall behind by before the bus drops them.
pub const SUBSCRIBER_BACKLOG: usize = 4096;

/// What a subscriber receives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BusEvent {
    /// A payload published to the subscribed channel.
    Message(Vec<u8>),
    /// The subscription had been lost and is live again: whatever was published in between
    /// never arrives.
    Resumed,
}

pub trait EventBus: Send + Sync + 'static {
    /// Publishes an encoded delivery to the replica named `node`.
    fn publish<'a>(&'a self, node: &'a str, payload: Vec<u8>) -> BoxFuture<'a, anyhow::Result<()>>;

    /// Whether the bus can carry events now (for readiness).
    fn ready(&self) -> BoxFuture<'_, anyhow::Result<()>>;

    /// Starts receiving what is published to `node`. The subscription is live when this returns.
    fn subscribe<'a>(
        &'a self,
        node: &'a str,
    ) -> BoxFuture<'a, anyhow::Result<mpsc::Receiver<BusEvent>>>;
}
