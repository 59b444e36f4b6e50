//! The in-process bus, for a single-process deployment: replicas in one process share it.

use std::collections::HashMap;
use std::sync::Mutex;

use futures_util::future::BoxFuture;
use tokio::sync::mpsc;

use super::{BusEvent, EventBus, SUBSCRIBER_BACKLOG};

#[derive(Default)]
pub struct MemoryBus {
    subscribers: Mutex<HashMap<String, Vec<mpsc::Sender<BusEvent>>>>,
}

impl MemoryBus {
    pub fn new() -> Self {
        Self::default()
    }
}

impl EventBus for MemoryBus {
    fn publish<'a>(&'a self, node: &'a str, payload: Vec<u8>) -> BoxFuture<'a, anyhow::Result<()>> {
        Box::pin(async move {
            let mut subscribers = self
                .subscribers
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            if let Some(list) = subscribers.get_mut(node) {
                // Like Redis pub/sub, a subscriber that is gone or too far behind misses it.
                list.retain(|s| !s.is_closed());
                for subscriber in list.iter() {
                    let _ = subscriber.try_send(BusEvent::Message(payload.clone()));
                }
            }
            Ok(())
        })
    }

    fn ready(&self) -> BoxFuture<'_, anyhow::Result<()>> {
        Box::pin(async { Ok(()) })
    }

    fn subscribe<'a>(
        &'a self,
        node: &'a str,
    ) -> BoxFuture<'a, anyhow::Result<mpsc::Receiver<BusEvent>>> {
        Box::pin(async move {
            let (sender, receiver) = mpsc::channel(SUBSCRIBER_BACKLOG);
            self.subscribers
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .entry(node.to_owned())
                .or_default()
                .push(sender);
            Ok(receiver)
        })
    }
}
