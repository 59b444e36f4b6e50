//! The gRPC surface: presence-service started through `run` on 127.0.0.1:0, against real Redis,
//! called through the generated clients.

use std::net::SocketAddr;
use std::time::Duration;

use chat_proto::presence::presence_client::PresenceClient;
use chat_proto::presence::{
    LocateRequest, RefreshRequest, SessionPresence, SessionRef, TypingRequest, UserLocation,
};
use presence_service::{Config, ERROR_CODE_KEY, LogFormat};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic::Code;
use tonic::transport::Channel;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

use crate::backends::TestRedis;

/// A presence-service serving on a random port until `stop` fires.
struct TestServer {
    addr: SocketAddr,
    stop: oneshot::Sender<()>,
    served: JoinHandle<anyhow::Result<()>>,
    redis: TestRedis,
}

impl TestServer {
    async fn start() -> Self {
        let redis = TestRedis::connect().await;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local address");
        let config = Config {
            listen: addr,
            redis_url: redis.url.clone(),
            redis_key_prefix: redis.prefix.clone(),
            log_format: LogFormat::Text,
            metrics_listen: None,
        };
        let (stop, stopped) = oneshot::channel::<()>();
        let shutdown = async {
            let _ = stopped.await;
        };
        let served = tokio::spawn(presence_service::run(config, listener, shutdown));
        Self {
            addr,
            stop,
            served,
            redis,
        }
    }

    async fn channel(&self) -> Channel {
        Channel::from_shared(format!("http://{}", self.addr))
            .expect("valid endpoint")
            .connect()
            .await
            .expect("connect to presence-service")
    }

    /// Fires shutdown and waits for `run` to return cleanly.
    async fn stop(self) {
        let _ = self.stop.send(());
        tokio::time::timeout(Duration::from_secs(10), self.served)
            .await
            .expect("server stops within 10 s")
            .expect("server task")
            .expect("server returns Ok");
        self.redis.cleanup().await;
    }
}

fn online(user_id: &str, session_id: &str, node_id: &str, ttl_ms: u64) -> SessionPresence {
    SessionPresence {
        user_id: user_id.to_owned(),
        session_id: session_id.to_owned(),
        node_id: node_id.to_owned(),
        ttl_ms,
    }
}

#[tokio::test]
async fn locate_finds_a_session_put_online() {
    let server = TestServer::start().await;
    let mut client = PresenceClient::new(server.channel().await);
    client
        .session_online(online("alice", "s1", "node-a", 60_000))
        .await
        .expect("SessionOnline");
    client
        .refresh(RefreshRequest {
            node_id: "node-b".to_owned(),
            sessions: vec![SessionRef {
                user_id: "alice".to_owned(),
                session_id: "s2".to_owned(),
            }],
            ttl_ms: 60_000,
        })
        .await
        .expect("Refresh");
    let located = client
        .locate(LocateRequest {
            user_ids: vec!["nobody".to_owned(), "alice".to_owned()],
        })
        .await
        .expect("Locate")
        .into_inner();
    assert_eq!(
        located.online,
        [UserLocation {
            user_id: "alice".to_owned(),
            node_ids: vec!["node-a".to_owned(), "node-b".to_owned()],
            sessions: 2,
        }]
    );
    server.stop().await;
}

#[tokio::test]
async fn invalid_requests_are_invalid_argument_with_error_code() {
    let server = TestServer::start().await;
    let mut client = PresenceClient::new(server.channel().await);
    let failures = [
        client
            .session_online(online("alice", "s1", "node-a", 0))
            .await,
        client
            .session_online(online("alice", "s1", "node-a", 600_001))
            .await,
        client
            .session_online(online("", "s1", "node-a", 1_000))
            .await,
        client
            .session_online(online("alice", "s1", "node|a", 1_000))
            .await,
        client
            .set_typing(TypingRequest {
                conversation_id: "conv-1".to_owned(),
                user_id: "alice".to_owned(),
                typing: true,
                ttl_ms: 0,
            })
            .await,
    ];
    for failure in failures {
        let status = failure.expect_err("request is rejected");
        assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
        let code = status.metadata().get(ERROR_CODE_KEY).expect("x-error-code");
        assert_eq!(code, "validation_failed");
    }
    let status = client
        .locate(LocateRequest {
            user_ids: vec!["alice".to_owned(); presence_service::MAX_BATCH + 1],
        })
        .await
        .expect_err("too many users");
    assert_eq!(status.code(), Code::InvalidArgument);
    server.stop().await;
}

#[tokio::test]
async fn health_is_serving_until_shutdown() {
    let server = TestServer::start().await;
    let mut health = HealthClient::new(server.channel().await);
    for service in ["", "presence.v1.Presence"] {
        let status = health
            .check(HealthCheckRequest {
                service: service.to_owned(),
            })
            .await
            .expect("health check")
            .into_inner()
            .status;
        assert_eq!(status, ServingStatus::Serving as i32, "service {service:?}");
    }

    let mut watch = health
        .watch(HealthCheckRequest {
            service: "presence.v1.Presence".to_owned(),
        })
        .await
        .expect("health watch")
        .into_inner();
    let first = watch.message().await.expect("watch").expect("first status");
    assert_eq!(first.status, ServingStatus::Serving as i32);

    let _ = server.stop.send(());
    let next = tokio::time::timeout(Duration::from_secs(5), watch.message())
        .await
        .expect("status change within 5 s")
        .expect("watch")
        .expect("next status");
    assert_eq!(next.status, ServingStatus::NotServing as i32);

    // Once the watcher lets go, the drain ends and `run` returns.
    drop(watch);
    drop(health);
    tokio::time::timeout(Duration::from_secs(10), server.served)
        .await
        .expect("server stops within 10 s")
        .expect("server task")
        .expect("server returns Ok");
    server.redis.cleanup().await;
}

#[tokio::test]
async fn run_names_an_unreachable_redis() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0");
    let config = Config {
        listen: listener.local_addr().expect("local address"),
        // Port 1 on loopback: nothing listens there.
        redis_url: "redis://:secret@127.0.0.1:1".to_owned(),
        redis_key_prefix: "unused:".to_owned(),
        log_format: LogFormat::Text,
        metrics_listen: None,
    };
    let error = presence_service::run(config, listener, std::future::pending())
        .await
        .expect_err("Redis is unreachable");
    let message = format!("{error:#}");
    assert!(
        message.contains("cannot connect to Redis at redis://127.0.0.1:1")
            || message.contains("cannot connect to Redis at redis://:***@127.0.0.1:1"),
        "{message}"
    );
    assert!(!message.contains("secret"), "{message}");
}
