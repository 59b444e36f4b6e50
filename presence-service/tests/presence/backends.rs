//! The stores the conformance suite runs against: memory, and a real Redis under a key prefix of
//! the test's own.

use presence_service::RedisPresence;
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

/// The Redis tests use: `TEST_REDIS_URL`, or the local server.
pub fn redis_url() -> String {
    std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

/// A fresh key prefix on the test Redis; keys left behind expire on their own, `cleanup` drops
/// them at once.
pub struct TestRedis {
    pub url: String,
    pub prefix: String,
    connection: ConnectionManager,
}

impl TestRedis {
    /// Connects to the test Redis, failing the test (never skipping it) when it is unreachable.
    pub async fn connect() -> Self {
        let url = redis_url();
        let connection = async {
            let client = redis::Client::open(url.as_str())?;
            // One quick retry: a missing Redis should fail the test at once, not after backoff.
            let config = ConnectionManagerConfig::new()
                .set_number_of_retries(1)
                .set_connection_timeout(Some(Duration::from_secs(2)));
            ConnectionManager::new_with_config(client, config).await
        }
        .await
        .unwrap_or_else(|error| {
            panic!("tests need Redis at {url} (set TEST_REDIS_URL to another one): {error}")
        });
        let prefix = format!("test:{}:", uuid::Uuid::new_v4().simple());
        Self {
            url,
            prefix,
            connection,
        }
    }

    /// A raw connection, for looking at the keys a store wrote.
    pub fn connection(&self) -> ConnectionManager {
        self.connection.clone()
    }

    pub fn store(&self) -> RedisPresence {
        RedisPresence::new(self.connection.clone(), &self.prefix)
    }

    /// Deletes every key under this test's prefix.
    pub async fn cleanup(self) {
        let mut connection = self.connection;
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg(format!("{}*", self.prefix))
            .query_async(&mut connection)
            .await
            .expect("list test keys");
        if !keys.is_empty() {
            redis::cmd("DEL")
                .arg(&keys)
                .exec_async(&mut connection)
                .await
                .expect("delete test keys");
        }
    }
}

/// One `#[tokio::test]` per case and store: `in_memory::<case>` and `on_redis::<case>`, each
/// calling `crate::conformance::<case>(store)`.
macro_rules! conformance_tests {
    ($($case:ident),* $(,)?) => {
        mod in_memory {
            $(
                #[tokio::test]
                async fn $case() {
                    crate::conformance::$case(presence_service::MemoryPresence::new()).await;
                }
            )*
        }

        mod on_redis {
            $(
                #[tokio::test]
                async fn $case() {
                    let redis = crate::backends::TestRedis::connect().await;
                    crate::conformance::$case(redis.store()).await;
                    redis.cleanup().await;
                }
            )*
        }
    };
}

pub(crate) use conformance_tests;
