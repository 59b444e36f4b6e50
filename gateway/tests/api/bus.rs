//! One conformance suite for the event bus, run on Redis and on memory: a replica receives what
//! is published to it, byte for byte and in order, and nothing published to another replica.

use std::sync::Arc;
use std::time::Duration;

use gateway::{BusEvent, EventBus, RedisBus};

use crate::helpers::redis_url;

async fn redis_bus() -> Arc<dyn EventBus> {
    let prefix = format!("test:{}:", uuid::Uuid::new_v4().simple());
    Arc::new(
        RedisBus::connect(&redis_url(), &prefix)
            .await
            .expect("tests need Redis: run scripts/test.sh or set TEST_REDIS_URL"),
    )
}

async fn delivers_to_the_named_replica_only(bus: Arc<dyn EventBus>) {
    bus.ready().await.expect("the bus is ready");
    let mut one = bus.subscribe("replica-1").await.unwrap();
    let mut two = bus.subscribe("replica-2").await.unwrap();
    let payloads: Vec<Vec<u8>> = (0u8..50).map(|n| vec![n, 0, 255, n]).collect();
    for payload in &payloads {
        bus.publish("replica-1", payload.clone()).await.unwrap();
    }
    for expected in &payloads {
        let got = tokio::time::timeout(Duration::from_secs(5), one.recv())
            .await
            .expect("delivered in time")
            .expect("subscription open");
        assert_eq!(
            got,
            BusEvent::Message(expected.clone()),
            "in order and intact"
        );
    }
    let stray = tokio::time::timeout(Duration::from_millis(300), two.recv()).await;
    assert!(stray.is_err(), "another replica got {stray:?}");
    // Publishing to a replica nobody subscribed to is not an error: it is a doorbell.
    bus.publish("replica-3", b"nobody".to_vec()).await.unwrap();
}

async fn a_dropped_subscription_does_not_stop_the_others(bus: Arc<dyn EventBus>) {
    let first = bus.subscribe("replica-1").await.unwrap();
    let mut second = bus.subscribe("replica-1").await.unwrap();
    drop(first);
    bus.publish("replica-1", b"still here".to_vec())
        .await
        .unwrap();
    let got = tokio::time::timeout(Duration::from_secs(5), second.recv())
        .await
        .unwrap();
    assert_eq!(got, Some(BusEvent::Message(b"still here".to_vec())));
}

macro_rules! bus_tests {
    ($($case:ident),*) => {
        mod on_redis {
            $(#[tokio::test] async fn $case() { super::$case(super::redis_bus().await).await })*
        }
        mod in_memory {
            $(#[tokio::test] async fn $case() { super::$case(std::sync::Arc::new(gateway::MemoryBus::new())).await })*
        }
    };
}

bus_tests!(
    delivers_to_the_named_replica_only,
    a_dropped_subscription_does_not_stop_the_others
);
