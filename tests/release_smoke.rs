//! The release binaries as docker-compose.yml runs them, on loopback: the environment Compose
//! gives each container (hostnames mapped to 127.0.0.1, each listening port moved to a free one,
//! Postgres and Redis the local ones), three services and two gateway replicas. Seed 000's
//! walkthrough runs across the replicas; then one gateway gets SIGTERM under traffic.
//!
//! It needs the binaries built: `scripts/test.sh` runs it on the debug build its test step has
//! just made (`SMOKE_BIN_DIR=target/debug`; `TEST_RELEASE=1` builds and runs the release ones).
//! Otherwise ignored: `cargo test --workspace --test release_smoke -- --ignored` after
//! `cargo build --release --bins` (`SMOKE_BIN_DIR` defaults to target/release).

#[path = "support/compose.rs"]
mod compose;
#[path = "support/ports.rs"]
mod ports;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

const TIMEOUT: Duration = Duration::from_secs(10);

fn binaries() -> PathBuf {
    std::env::var_os("SMOKE_BIN_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| compose::root().join("target/release"))
}

/// The running containers; every process is killed when this is dropped.
struct Deployment {
    processes: BTreeMap<String, Child>,
    logs: PathBuf,
}

impl Drop for Deployment {
    fn drop(&mut self) {
        for child in self.processes.values_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Deployment {
    fn log_tail(&self, name: &str) -> String {
        let text =
            std::fs::read_to_string(self.logs.join(format!("{name}.log"))).unwrap_or_default();
        text.lines()
            .rev()
            .take(30)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// Rewrites `host:port` references of Compose's network into loopback ones.
fn rewrite(value: &str, addresses: &BTreeMap<String, String>) -> String {
    let mut value = value.to_owned();
    for (from, to) in addresses {
        value = value.replace(from, to);
    }
    value
}

fn wait_healthy(deployment: &mut Deployment, name: &str, probe: &[String]) {
    let started = Instant::now();
    loop {
        let ok = Command::new(binaries().join("healthcheck"))
            .args(probe)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if ok {
            return;
        }
        if let Some(child) = deployment.processes.get_mut(name)
            && let Ok(Some(status)) = child.try_wait()
        {
            panic!(
                "{name} exited with {status}:\n{}",
                deployment.log_tail(name)
            );
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "{name} never became healthy:\n{}",
            deployment.log_tail(name)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Starts our containers of docker-compose.yml as local processes, in Compose's order.
async fn deploy(database_url: &str, redis_url: &str) -> (Deployment, BTreeMap<String, String>) {
    let containers = compose::compose_containers();
    let logs =
        std::env::temp_dir().join(format!("release-smoke-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&logs).unwrap();
    // Each container's listening ports get a free loopback port; `name:port` references and
    // the databases' hostnames follow.
    let mut free = ports::Ports::new();
    let mut addresses = BTreeMap::new();
    let mut public = BTreeMap::new();
    for container in &containers {
        for key in ["LISTEN_ADDR", "METRICS_ADDR"] {
            if let Some(listen) = container.env.get(key) {
                let port = listen.rsplit(':').next().unwrap();
                let local = format!("127.0.0.1:{}", free.take());
                addresses.insert(format!("{}:{port}", container.name), local.clone());
                if key == "LISTEN_ADDR" {
                    public.insert(container.name.clone(), local);
                }
            }
        }
    }
    let database = url::Url::parse(database_url).unwrap();
    let redis = url::Url::parse(redis_url).unwrap();
    let mut deployment = Deployment {
        processes: BTreeMap::new(),
        logs,
    };
    for name in [
        "auth-service",
        "chat-service",
        "presence-service",
        "gateway-1",
        "gateway-2",
    ] {
        let container = containers
            .iter()
            .find(|c| c.name == name)
            .unwrap_or_else(|| panic!("docker-compose.yml has no service {name}"));
        let mut env = BTreeMap::new();
        for (key, value) in &container.env {
            let value = match key.as_str() {
                "LISTEN_ADDR" | "METRICS_ADDR" => {
                    let port = value.rsplit(':').next().unwrap();
                    addresses[&format!("{name}:{port}")].clone()
                }
                "DATABASE_URL" => {
                    let mut url = url::Url::parse(value).unwrap();
                    url.set_host(database.host_str()).unwrap();
                    url.set_port(database.port()).unwrap();
                    url.set_path(database.path());
                    url.to_string()
                }
                "REDIS_URL" => redis.to_string(),
                _ => rewrite(value, &addresses),
            };
            env.insert(key.clone(), value);
        }
        let log = std::fs::File::create(deployment.logs.join(format!("{name}.log"))).unwrap();
        let child = Command::new(binaries().join(&container.binary))
            .env_clear()
            .envs(&env)
            .env("RUST_LOG", "info")
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|error| {
                panic!(
                    "cannot start {} from {}: {error} (build with `cargo build --release --bins`)",
                    container.binary,
                    binaries().display()
                )
            });
        deployment.processes.insert(name.to_owned(), child);
        let address = &public[name];
        let probe = if container.binary == "gateway" {
            vec!["--http".to_owned(), format!("http://{address}/readyz")]
        } else {
            vec!["--grpc".to_owned(), address.clone()]
        };
        wait_healthy(&mut deployment, name, &probe);
    }
    (deployment, public)
}

async fn post(base: &str, path: &str, token: Option<&str>, body: Value) -> Value {
    let mut request = reqwest::Client::new()
        .post(format!("{base}{path}"))
        .json(&body);
    if let Some(token) = token {
        request = request.header("authorization", format!("bearer {token}"));
    }
    let response = request.send().await.unwrap();
    assert!(
        response.status().is_success(),
        "{path}: {}",
        response.status()
    );
    response.json().await.unwrap()
}

async fn put(base: &str, path: &str, token: &str, body: Value) {
    let response = reqwest::Client::new()
        .put(format!("{base}{path}"))
        .header("authorization", format!("bearer {token}"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(
        response.status().is_success(),
        "{path}: {}",
        response.status()
    );
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Connects to `gateway` at the connection id of a `messaging_url` (Compose's PUBLIC_URL names
/// nginx, which picks a gateway; here the test picks).
async fn connect(gateway: &str, messaging_url: &str) -> Socket {
    let connection_id = messaging_url.rsplit('/').next().unwrap();
    let (mut socket, _) =
        tokio_tungstenite::connect_async(format!("ws://{gateway}/{connection_id}"))
            .await
            .unwrap();
    socket
        .send(Message::Ping(b"ready".to_vec().into()))
        .await
        .unwrap();
    loop {
        if let Message::Pong(_) = socket.next().await.unwrap().unwrap() {
            return socket;
        }
    }
}

async fn event(socket: &mut Socket, kind: u64) -> Value {
    loop {
        let frame = tokio::time::timeout(TIMEOUT, socket.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        if let Message::Text(text) = frame {
            let event: Value = serde_json::from_str(&text).unwrap();
            assert_eq!(event["type"], kind, "{event}");
            return event;
        }
    }
}

async fn send(socket: &mut Socket, value: Value) {
    socket.send(Message::text(value.to_string())).await.unwrap();
}

struct Account {
    id: String,
    token: String,
    url: String,
}

async fn account(gateway: &str, name: &str) -> Account {
    let base = format!("http://{gateway}");
    let created = post(
        &base,
        "/users",
        None,
        json!({"username": name, "email": format!("{name}@example.com"), "password": "0000"}),
    )
    .await;
    let login = post(
        &base,
        "/login",
        None,
        json!({"username": name, "password": "0000"}),
    )
    .await;
    let token = login["token"].as_str().unwrap().to_owned();
    let session = post(&base, "/sessions", Some(&token), json!({"device_id": "0000", "platform": "web", "model": "chrome", "build": 1, "name": "pc"})).await;
    Account {
        id: created["id"].as_str().unwrap().to_owned(),
        token,
        url: session["messaging_url"].as_str().unwrap().to_owned(),
    }
}

async fn fresh_database() -> (String, String) {
    let admin = service_runtime::postgres::test_admin_url();
    let url = service_runtime::postgres::create_test_database(&admin)
        .await
        .expect("the smoke test needs Postgres (scripts/test.sh starts it)");
    (admin, url)
}

fn exit_within(child: &mut Child, limit: Duration) -> std::process::ExitStatus {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(
            started.elapsed() < limit,
            "still running {limit:?} after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[tokio::test]
#[ignore = "needs the release binaries; scripts/test.sh builds them and runs it"]
async fn compose_environment_on_loopback_serves_the_walkthrough_and_drains_on_sigterm() {
    let (_admin, database_url) = fresh_database().await;
    let redis_url =
        std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    // Compose connects as role `chat`; make it exist here, owning the test's database.
    let admin_url = service_runtime::postgres::test_admin_url();
    let database = database_url
        .rsplit('/')
        .next()
        .unwrap()
        .split('?')
        .next()
        .unwrap()
        .to_owned();
    {
        use sqlx::{ConnectOptions, Connection};
        let options: sqlx::postgres::PgConnectOptions = admin_url.parse().unwrap();
        let mut admin = options.connect().await.unwrap();
        let _ = sqlx::query("CREATE ROLE chat LOGIN PASSWORD 'chat-dev-only'")
            .execute(&mut admin)
            .await;
        sqlx::query(&format!("ALTER DATABASE {database} OWNER TO chat"))
            .execute(&mut admin)
            .await
            .unwrap();
        admin.close().await.unwrap();
    }
    let (mut deployment, public) = deploy(&database_url, &redis_url).await;
    let (one, two) = (public["gateway-1"].clone(), public["gateway-2"].clone());

    // Seed 000 across the two replicas.
    let user1 = account(&one, "user1").await;
    let user2 = account(&two, "user2").await;
    let mut socket1 = connect(&one, &user1.url).await;
    let mut socket2 = connect(&two, &user2.url).await;
    let group = post(
        &format!("http://{one}"),
        "/groups",
        Some(&user1.token),
        json!({"name": "group_1", "user_ids": [user2.id]}),
    )
    .await;
    let group_id = group["id"].as_str().unwrap().to_owned();
    assert_eq!(
        event(&mut socket1, 70).await["body"]["user_ids"],
        json!([user2.id, user1.id])
    );
    event(&mut socket2, 70).await;
    send(
        &mut socket1,
        json!({"method": 40, "body": {"group_id": group_id, "data": "Hello, how are you?"}}),
    )
    .await;
    let message_id = event(&mut socket1, 21).await["body"]["message_id"].clone();
    assert_eq!(
        event(&mut socket2, 20).await["body"]["data"],
        "Hello, how are you?"
    );
    send(
        &mut socket2,
        json!({"method": 41, "body": {"message_id": message_id}}),
    )
    .await;
    event(&mut socket1, 22).await;
    send(
        &mut socket2,
        json!({"method": 42, "body": {"message_id": message_id}}),
    )
    .await;
    event(&mut socket1, 23).await;
    send(
        &mut socket2,
        json!({"method": 60, "body": {"group_id": group_id}}),
    )
    .await;
    event(&mut socket1, 40).await;
    send(
        &mut socket2,
        json!({"method": 61, "body": {"group_id": group_id}}),
    )
    .await;
    event(&mut socket1, 41).await;
    put(
        &format!("http://{one}"),
        &format!("/groups/{group_id}/left"),
        &user1.token,
        json!({"user_id": user1.id}),
    )
    .await;
    assert_eq!(
        event(&mut socket2, 73).await["body"]["user_id"],
        user1.id.as_str()
    );
    put(
        &format!("http://{one}"),
        &format!("/groups/{group_id}/join"),
        &user1.token,
        json!({"user_id": user1.id}),
    )
    .await;
    assert_eq!(
        event(&mut socket2, 72).await["body"]["user_id"],
        user1.id.as_str()
    );
    event(&mut socket1, 73).await;
    event(&mut socket1, 72).await;

    // SIGTERM to gateway-1 in the middle of a burst from user 1.
    for n in 0..50 {
        send(&mut socket1, json!({"method": 40, "body": {"group_id": group_id, "data": format!("burst {n}"), "client_message_id": format!("burst-{n}")}})).await;
    }
    let mut acknowledged = vec![event(&mut socket1, 21).await["body"]["message_id"].clone()];
    let pid = deployment.processes["gateway-1"].id().to_string();
    let terminated = Instant::now();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let ready = reqwest::get(format!("http://{one}/readyz")).await;
    if let Ok(response) = ready {
        assert_eq!(
            response.status().as_u16(),
            503,
            "/readyz turns false at once"
        );
    }
    let code = loop {
        match tokio::time::timeout(TIMEOUT, socket1.next()).await.unwrap() {
            Some(Ok(Message::Text(text))) => {
                let event: Value = serde_json::from_str(&text).unwrap();
                if event["type"] == 21 {
                    acknowledged.push(event["body"]["message_id"].clone());
                }
            }
            Some(Ok(Message::Close(Some(frame)))) => break u16::from(frame.code),
            Some(Ok(_)) => continue,
            other => panic!("expected close 1012, got {other:?}"),
        }
    };
    assert_eq!(code, 1012);
    let status = exit_within(
        deployment.processes.get_mut("gateway-1").unwrap(),
        Duration::from_secs(30),
    );
    assert!(
        status.success(),
        "gateway-1 exits cleanly: {status}\n{}",
        deployment.log_tail("gateway-1")
    );
    assert!(terminated.elapsed() < Duration::from_secs(30));

    // User 1 reconnects to the other replica and finds every acknowledged message.
    let mut socket1 = connect(&two, &user1.url).await;
    send(&mut socket1, json!({"method": 20, "timestamp": 0})).await;
    let mut stored = Vec::new();
    let deadline = Instant::now() + TIMEOUT;
    while Instant::now() < deadline {
        let Ok(Some(Ok(frame))) =
            tokio::time::timeout(Duration::from_millis(500), socket1.next()).await
        else {
            break;
        };
        if let Message::Text(text) = frame {
            let event: Value = serde_json::from_str(&text).unwrap();
            if event["type"] == 20 {
                stored.push(event["body"]["message_id"].clone());
            }
        }
    }
    for id in &acknowledged {
        assert!(stored.contains(id), "acknowledged message {id} was lost");
    }
    let _ = Path::new(&deployment.logs);
}
