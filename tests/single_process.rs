//! The single-process server as a new user runs it: embedded storage under a data directory,
//! seed 000's flow, a shutdown during traffic (clients get 1012, nothing acknowledged is lost),
//! and a restart that keeps users, sessions, groups and messages.

use std::path::PathBuf;
use std::time::Duration;

use chat_backend::Options;
use clap::Parser;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio_tungstenite::tungstenite::Message;

const TIMEOUT: Duration = Duration::from_secs(10);

struct Server {
    base: String,
    stop: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

async fn start(data_dir: &std::path::Path) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let options = Options::parse_from([
        "chat-backend",
        "--data-dir",
        data_dir.to_str().unwrap(),
        "--listen",
        "127.0.0.1:0",
    ]);
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(chat_backend::run(options, listener, async move {
        let _ = stopped.await;
    }));
    Server { base, stop, task }
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

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(url: &str) -> Socket {
    let (mut socket, _) = tokio_tungstenite::connect_async(url).await.unwrap();
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

async fn next_event(socket: &mut Socket) -> Value {
    loop {
        let frame = tokio::time::timeout(TIMEOUT, socket.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        match frame {
            Message::Text(text) => return serde_json::from_str(&text).unwrap(),
            Message::Close(frame) => panic!("closed: {frame:?}"),
            _ => continue,
        }
    }
}

fn fresh_data_dir() -> PathBuf {
    std::env::temp_dir().join(format!(
        "chat-backend-test-{}",
        uuid::Uuid::new_v4().simple()
    ))
}

#[tokio::test]
async fn serves_the_walkthrough_drains_with_1012_and_keeps_everything_across_a_restart() {
    let data_dir = fresh_data_dir();
    let server = start(&data_dir).await;
    let base = server.base.clone();
    let mut tokens = Vec::new();
    let mut ids = Vec::new();
    let mut urls = Vec::new();
    for name in ["user1", "user2"] {
        let created = post(
            &base,
            "/users",
            None,
            json!({"username": name, "email": format!("{name}@example.com"), "password": "0000"}),
        )
        .await;
        ids.push(created["id"].as_str().unwrap().to_owned());
        let login = post(
            &base,
            "/login",
            None,
            json!({"username": name, "password": "0000"}),
        )
        .await;
        let token = login["token"].as_str().unwrap().to_owned();
        let session = post(&base, "/sessions", Some(&token), json!({"device_id": "0000", "platform": "web", "model": "chrome", "build": 1, "name": "pc"})).await;
        urls.push(session["messaging_url"].as_str().unwrap().to_owned());
        tokens.push(token);
    }
    assert!(urls[0].starts_with(&base.replace("http://", "ws://")));
    let mut alice = connect(&urls[0]).await;
    let mut bob = connect(&urls[1]).await;
    let group = post(
        &base,
        "/groups",
        Some(&tokens[0]),
        json!({"name": "group_1", "user_ids": [ids[1]]}),
    )
    .await;
    let group_id = group["id"].as_str().unwrap().to_owned();
    assert_eq!(next_event(&mut alice).await["type"], 70);
    assert_eq!(next_event(&mut bob).await["type"], 70);

    // Alice sends a burst; the server is told to stop in the middle of it.
    for n in 0..20 {
        alice
            .send(Message::text(json!({"method": 40, "body": {"group_id": group_id, "data": format!("m{n}"), "client_message_id": format!("c{n}")}}).to_string()))
            .await
            .unwrap();
    }
    let first_ack = next_event(&mut alice).await;
    assert_eq!(first_ack["type"], 21);
    let mut acknowledged = vec![first_ack["body"]["message_id"].as_str().unwrap().to_owned()];
    server.stop.send(()).unwrap();
    let close_code = loop {
        match tokio::time::timeout(TIMEOUT, alice.next()).await.unwrap() {
            Some(Ok(Message::Text(text))) => {
                let event: Value = serde_json::from_str(&text).unwrap();
                if event["type"] == 21 {
                    acknowledged.push(event["body"]["message_id"].as_str().unwrap().to_owned());
                }
            }
            Some(Ok(Message::Close(Some(frame)))) => break u16::from(frame.code),
            Some(Ok(_)) => continue,
            other => panic!("expected a close frame, got {other:?}"),
        }
    };
    assert_eq!(close_code, 1012, "clients are told the server restarts");
    let stopped = tokio::time::timeout(Duration::from_secs(30), server.task).await;
    stopped
        .expect("stops within the grace period")
        .unwrap()
        .expect("exits cleanly");

    // Restarted on the same data directory: the session's connection id, the token, the group
    // and every acknowledged message are still there.
    let server = start(&data_dir).await;
    let connection_id = urls[1].rsplit('/').next().unwrap();
    let mut bob = connect(&format!(
        "{}/{connection_id}",
        server.base.replace("http://", "ws://")
    ))
    .await;
    bob.send(Message::text(
        json!({"method": 20, "timestamp": 0}).to_string(),
    ))
    .await
    .unwrap();
    assert_eq!(next_event(&mut bob).await["type"], 70);
    let mut caught_up = Vec::new();
    while caught_up.len() < acknowledged.len() {
        let event = next_event(&mut bob).await;
        assert_eq!(event["type"], 20);
        caught_up.push(event["body"]["message_id"].as_str().unwrap().to_owned());
    }
    assert_eq!(
        caught_up, acknowledged,
        "every acknowledged message survived, in order"
    );
    let response = reqwest::Client::new()
        .get(format!(
            "{}/groups/{group_id}/messages?limit=100",
            server.base
        ))
        .header("authorization", format!("bearer {}", tokens[0]))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let history: Value = response.json().await.unwrap();
    let seqs: Vec<i64> = history["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(
        seqs,
        (1..=seqs.len() as i64).collect::<Vec<_>>(),
        "no gap in seq"
    );
    assert!(seqs.len() >= acknowledged.len());
    server.stop.send(()).unwrap();
    server.task.await.unwrap().unwrap();
    let _ = std::fs::remove_dir_all(&data_dir);
}

/// `chat-backend platform create|revoke NAME` on the data directory the server runs on.
fn platform_command(data_dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_chat-backend"))
        .env("DATA_DIR", data_dir)
        .env_remove("DATABASE_URL")
        .arg("platform")
        .args(args)
        .output()
        .expect("run chat-backend")
}

async fn token_status(base: &str, key: &str) -> u16 {
    reqwest::Client::new()
        .post(format!("{base}/token"))
        .header("authorization", format!("Bearer {key}"))
        .json(&json!({"userID": "user1"}))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn the_operator_creates_and_revokes_a_platforms_key_from_the_command_line() {
    let dir = fresh_data_dir();
    let created = platform_command(&dir, &["create", "acme"]);
    assert!(created.status.success(), "{created:?}");
    let stdout = String::from_utf8(created.stdout).unwrap();
    let key = stdout.lines().last().unwrap().trim().to_owned();
    assert!(key.starts_with("pk_"), "{stdout}");
    let twice = platform_command(&dir, &["create", "acme"]);
    assert!(!twice.status.success(), "a name is created once");

    let server = start(&dir).await;
    assert_eq!(token_status(&server.base, &key).await, 200);
    let revoked = platform_command(&dir, &["revoke", "acme"]);
    assert!(revoked.status.success(), "{revoked:?}");
    assert_eq!(token_status(&server.base, &key).await, 401);
    let again = platform_command(&dir, &["revoke", "acme"]);
    assert!(!again.status.success(), "nothing left to revoke");
    let _ = server.stop.send(());
    let _ = tokio::time::timeout(TIMEOUT, server.task).await;
    let _ = std::fs::remove_dir_all(&dir);
}

/// `cargo run` with nothing configured: registering by email writes the confirmation mail as
/// an `.eml` file under `<data-dir>/mail/`, and its link creates the account.
#[tokio::test]
async fn registering_by_email_without_smtp_writes_the_mail_under_the_data_dir() {
    let data_dir = fresh_data_dir();
    let server = start(&data_dir).await;
    let base = server.base.clone();
    let registration =
        json!({"email": "dora@example.com", "password": "explore", "first_name": "Dora"});
    let pending = post(&base, "/http/register", None, registration).await;
    assert_eq!(pending["success"], true, "{pending}");
    let mails: Vec<PathBuf> = std::fs::read_dir(data_dir.join("mail"))
        .expect("the mail directory")
        .map(|entry| entry.unwrap().path())
        .collect();
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert_eq!(mails[0].extension().and_then(|e| e.to_str()), Some("eml"));
    let mail = std::fs::read_to_string(&mails[0])
        .unwrap()
        .replace("=\r\n", "");
    let prefix = format!("{base}/http/register/");
    let start_at = mail.find(&prefix).expect("the link in the mail");
    let link = mail[start_at..].split_whitespace().next().unwrap();
    let confirmed: Value = reqwest::get(link).await.unwrap().json().await.unwrap();
    assert_eq!(confirmed["success"], true, "{confirmed}");
    let login = json!({"email": "dora@example.com", "password": "explore"});
    let token = post(&base, "/http/login", None, login).await;
    assert!(token["token"].is_string(), "{token}");
    server.stop.send(()).unwrap();
    server.task.await.unwrap().unwrap();
    std::fs::remove_dir_all(&data_dir).unwrap();
}
