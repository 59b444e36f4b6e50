//! The bus that carries deliveries between gateway replicas: one channel per replica, so an
//! event goes only to the replicas where its recipients are connected. It is a doorbell, not
//! storage: what a replica misses, its clients recover by catch-up from the database.

mod memory;
mod redis;

use futures_util::future::BoxFuture;
use tokio::sync::mpsc;

pub use self::memory::MemoryBus;
pub use self::redis::RedisBus;

/// Deliveries a subscriber may fall behind by before the bus drops them.
pub const SUBSCRIBER_BACKLOG: usize = 4096;

pub trait EventBus: Send + Sync + 'static {
    /// Publishes an encoded delivery to the replica named `node`.
    fn publish<'a>(&'a self, node: &'a str, payload: Vec<u8>) -> BoxFuture<'a, anyhow::Result<()>>;

    /// Whether the bus can carry events now (for readiness).
    fn ready(&self) -> BoxFuture<'_, anyhow::Result<()>>;

    /// Starts receiving what is published to `node`. The subscription is live when this returns.
    fn subscribe<'a>(
        &'a self,
        node: &'a str,
    ) -> BoxFuture<'a, anyhow::Result<mpsc::Receiver<Vec<u8>>>>;
}
