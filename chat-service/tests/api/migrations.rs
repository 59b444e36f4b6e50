//! Migrations once per rollout: the binary with `MIGRATE_ONLY=true` prepares the schema and exits;
//! replicas with `SKIP_MIGRATIONS=true` refuse a schema that is not ready and serve one that is.

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use chat_proto::chat::chat_client::ChatClient;
use chat_service::Config;
use clap::Parser;
use service_runtime::postgres::{create_test_database, test_admin_url};
use tokio::net::TcpListener;
use tonic::transport::Channel;

use crate::helpers::{ALICE, BOB, create_group};

/// Runs the chat-service binary with only `env` set, as a container would; kills it if it is
/// still running after 30 s (a migrate-only run must exit by itself).
async fn run_binary(env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_chat-service"));
    command
        .env_clear()
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    tokio::task::spawn_blocking(move || {
        let mut child = command.spawn().expect("start chat-service");
        let deadline = Instant::now() + Duration::from_secs(30);
        while child.try_wait().expect("poll chat-service").is_none() {
            if Instant::now() > deadline {
                child.kill().ok();
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        child.wait_with_output().expect("chat-service's output")
    })
    .await
    .expect("the waiting thread")
}

fn printed(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// The Redis the relay publishes to: `TEST_REDIS_URL`, or the local server.
fn redis_url() -> String {
    std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

/// No presence-service runs in these tests: the relay only asks it when it has events to
/// publish, and keeps retrying until the server stops.
const PRESENCE_URL: &str = "http://127.0.0.1:9";

async fn fresh_database() -> String {
    create_test_database(&test_admin_url())
        .await
        .unwrap_or_else(|error| panic!("cannot create a test database: {error:#}"))
}

#[tokio::test]
async fn migrate_only_prepares_the_schema_for_replicas_that_skip_migrations() {
    let url = fresh_database().await;
    // A migrate-only run listens on nothing, so a port already taken does not matter.
    let taken = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let taken = taken.local_addr().unwrap().to_string();
    let redis = redis_url();
    let migrated = run_binary(&[
        ("DATABASE_URL", &url),
        ("REDIS_URL", &redis),
        ("PRESENCE_URL", PRESENCE_URL),
        ("MIGRATE_ONLY", "true"),
        ("LISTEN_ADDR", &taken),
    ])
    .await;
    assert!(migrated.status.success(), "{}", printed(&migrated));

    let config = Config::try_parse_from([
        "chat-service",
        "--database-url",
        &url,
        "--redis-url",
        &redis,
        "--presence-url",
        PRESENCE_URL,
        "--skip-migrations",
    ])
    .expect("valid flags");
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(chat_service::run(config, listener, async {
        stopped.await.ok();
    }));
    let channel = Channel::from_shared(format!("http://{address}"))
        .unwrap()
        .connect()
        .await
        .expect("connect to chat-service");
    let group = create_group(&mut ChatClient::new(channel), ALICE, &[BOB]).await;
    assert_eq!(group.name, "Team");
    stop.send(()).ok();
    server.await.unwrap().expect("a clean stop");
}

#[tokio::test]
async fn skip_migrations_refuses_a_schema_that_is_not_ready_and_leaves_it_alone() {
    let url = fresh_database().await;
    let refused = run_binary(&[
        ("DATABASE_URL", &url),
        ("REDIS_URL", &redis_url()),
        ("PRESENCE_URL", PRESENCE_URL),
        ("SKIP_MIGRATIONS", "true"),
        ("LISTEN_ADDR", "127.0.0.1:0"),
    ])
    .await;
    assert_eq!(refused.status.code(), Some(1), "{}", printed(&refused));
    assert!(
        printed(&refused).contains("--migrate-only"),
        "{}",
        printed(&refused)
    );

    let pool = sqlx::PgPool::connect(&url).await.unwrap();
    let tables: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'chat'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(
        tables, 0,
        "a replica that skips migrations must not migrate"
    );
}
