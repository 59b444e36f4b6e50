//! The Redis pub/sub bus: one publishing connection and one subscribing connection per replica,
//! subscribed to the replica's own channel only. The subscriber reconnects on its own.

use std::time::Duration;

use anyhow::Context;
use futures_util::StreamExt;
use futures_util::future::BoxFuture;
use redis::AsyncCommands;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use tokio::sync::mpsc;

use super::{BusEvent, EventBus, SUBSCRIBER_BACKLOG};

pub struct RedisBus {
    client: redis::Client,
    publisher: ConnectionManager,
    prefix: String,
}

impl RedisBus {
    pub async fn connect(url: &str, prefix: &str) -> anyhow::Result<Self> {
        let client =
            redis::Client::open(url).with_context(|| "REDIS_URL is not a valid Redis URL")?;
        // After Redis restarts, publishing resumes within about half a second of it.
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(2)))
            .set_response_timeout(Some(Duration::from_secs(2)))
            .set_max_delay(Duration::from_millis(500));
        let publisher = ConnectionManager::new_with_config(client.clone(), config)
            .await
            .with_context(|| format!("cannot connect to Redis at {url}"))?;
        Ok(Self {
            client,
            publisher,
            prefix: prefix.to_owned(),
        })
    }

    fn channel(&self, node: &str) -> String {
        format!("{}node:{node}", self.prefix)
    }
}

impl EventBus for RedisBus {
    fn publish<'a>(&'a self, node: &'a str, payload: Vec<u8>) -> BoxFuture<'a, anyhow::Result<()>> {
        Box::pin(async move {
            let mut connection = self.publisher.clone();
            let _receivers: i64 = connection.publish(self.channel(node), payload).await?;
            Ok(())
        })
    }

    fn ready(&self) -> BoxFuture<'_, anyhow::Result<()>> {
        Box::pin(async move {
            let mut connection = self.publisher.clone();
            let _: String = redis::cmd("PING").query_async(&mut connection).await?;
            Ok(())
        })
    }

    fn subscribe<'a>(
        &'a self,
        node: &'a str,
    ) -> BoxFuture<'a, anyhow::Result<mpsc::Receiver<BusEvent>>> {
        Box::pin(async move {
            let channel = self.channel(node);
            let first = subscribe_once(&self.client, &channel).await?;
            let (sender, receiver) = mpsc::channel(SUBSCRIBER_BACKLOG);
            tokio::spawn(relay(self.client.clone(), channel, first, sender));
            Ok(receiver)
        })
    }
}

async fn subscribe_once(
    client: &redis::Client,
    channel: &str,
) -> anyhow::Result<redis::aio::PubSub> {
    let mut pubsub = client.get_async_pubsub().await?;
    pubsub.subscribe(channel).await?;
    Ok(pubsub)
}

/// Forwards messages until the receiver is dropped, resubscribing after connection losses.
async fn relay(
    client: redis::Client,
    channel: String,
    first: redis::aio::PubSub,
    sender: mpsc::Sender<BusEvent>,
) {
    let mut pubsub = Some(first);
    let mut backoff = Duration::from_millis(50);
    loop {
        if let Some(connection) = pubsub.take() {
            backoff = Duration::from_millis(50);
            let mut messages = connection.into_on_message();
            while let Some(message) = messages.next().await {
                if sender
                    .send(BusEvent::Message(message.get_payload_bytes().to_vec()))
                    .await
                    .is_err()
                {
                    return;
                }
            }
            tracing::warn!(%channel, "lost the Redis subscription, reconnecting");
        }
        if sender.is_closed() {
            return;
        }
        tokio::time::sleep(backoff).await;
        // Capped low: delivery across replicas resumes within about a second of Redis.
        backoff = (backoff * 2).min(Duration::from_millis(500));
        match subscribe_once(&client, &channel).await {
            Ok(connection) => {
                tracing::info!(%channel, "Redis subscription restored");
                if sender.send(BusEvent::Resumed).await.is_err() {
                    return;
                }
                pubsub = Some(connection);
            }
            Err(error) => tracing::warn!(%channel, %error, "cannot resubscribe to Redis yet"),
        }
    }
}
