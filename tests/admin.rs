//! `chat-backend admin ...` against running servers, as an operator runs it: the binary, on
//! both backends.
//!
//! - SQLite: one single-process server; the command finds it through its data directory.
//! - Postgres + Redis: two servers sharing the database and Redis, so two gateway replicas,
//!   reached the way a services deployment is, with `--auth-url`, `--chat-url` and
//!   `--admin-token`; a session revoked through one replica's services closes its socket on the
//!   other replica.
//!
//! Each command: its success, its `--json` shape, and a clear error with a non-zero exit.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use chat_backend::Options;
use clap::Parser;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio_tungstenite::tungstenite::Message;

const TIMEOUT: Duration = Duration::from_secs(15);

struct Server {
    base: String,
    data_dir: PathBuf,
    stop: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl Server {
    async fn start(data_dir: &Path, extra: &[&str]) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let mut args = vec![
            "chat-backend",
            "--data-dir",
            data_dir.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
        ];
        args.extend_from_slice(extra);
        let options = Options::parse_from(args);
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(chat_backend::run(options, listener, async move {
            let _ = stopped.await;
        }));
        // Serving once the admin file is there and the HTTP API answers.
        let admin_file = data_dir.join("admin.json");
        tokio::time::timeout(TIMEOUT, async {
            loop {
                if admin_file.exists() && reqwest::get(&base).await.is_ok() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
        .await
        .expect("the server starts");
        Server {
            base,
            data_dir: data_dir.to_owned(),
            stop,
            task,
        }
    }

    fn admin_file(&self) -> Value {
        let text = std::fs::read_to_string(self.data_dir.join("admin.json")).unwrap();
        serde_json::from_str(&text).unwrap()
    }

    async fn stop(self) {
        self.stop.send(()).unwrap();
        tokio::time::timeout(Duration::from_secs(30), self.task)
            .await
            .expect("stops in time")
            .unwrap()
            .expect("stops cleanly");
        assert!(
            !self.data_dir.join("admin.json").exists(),
            "the admin file goes with the server"
        );
    }
}

fn fresh_dir(what: &str) -> PathBuf {
    std::env::temp_dir().join(format!("chat-{what}-{}", uuid::Uuid::new_v4().simple()))
}

/// How the operator's command reaches the services.
#[derive(Clone)]
struct Cli {
    /// Arguments before `admin`, then the ones right after it.
    global: Vec<String>,
    admin: Vec<String>,
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn ok(self) -> String {
        assert_eq!(self.code, 0, "failed: {}", self.stderr);
        self.stdout
    }

    fn json(self) -> Value {
        let stdout = self.ok();
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"))
    }

    /// A failure: exit code 1 and one `error: ...` line containing `expected`.
    fn fails_with(self, expected: &str) {
        assert_eq!(
            self.code, 1,
            "stdout: {} stderr: {}",
            self.stdout, self.stderr
        );
        assert!(self.stdout.is_empty(), "nothing on stdout: {}", self.stdout);
        assert!(
            self.stderr.starts_with("error: ") && self.stderr.contains(expected),
            "expected {expected:?} in {:?}",
            self.stderr
        );
    }
}

impl Cli {
    async fn run(&self, args: &[&str]) -> Run {
        self.run_with_stdin(args, None).await
    }

    async fn run_with_stdin(&self, args: &[&str], stdin: Option<&str>) -> Run {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_chat-backend"));
        for variable in [
            "ADMIN_TOKEN",
            "AUTH_URL",
            "CHAT_URL",
            "DATA_DIR",
            "DATABASE_URL",
            "REDIS_URL",
        ] {
            command.env_remove(variable);
        }
        command
            .args(&self.global)
            .arg("admin")
            .args(&self.admin)
            .args(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let stdin = stdin.map(str::to_owned);
        let output: Output = tokio::task::spawn_blocking(move || {
            let mut child = command.spawn().expect("the binary runs");
            let mut input = child.stdin.take().unwrap();
            if let Some(text) = stdin {
                use std::io::Write;
                input.write_all(text.as_bytes()).unwrap();
            }
            drop(input);
            child.wait_with_output().unwrap()
        })
        .await
        .unwrap();
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8(output.stdout).unwrap(),
            stderr: String::from_utf8(output.stderr).unwrap(),
        }
    }
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

async fn login_status(base: &str, username: &str, password: &str) -> u16 {
    reqwest::Client::new()
        .post(format!("{base}/login"))
        .json(&json!({"username": username, "password": password}))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
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

/// The close code the socket ends with, skipping events before it.
async fn closed_with(socket: &mut Socket) -> u16 {
    loop {
        match tokio::time::timeout(TIMEOUT, socket.next()).await {
            Ok(Some(Ok(Message::Close(Some(frame))))) => return u16::from(frame.code),
            Ok(Some(Ok(_))) => continue,
            other => panic!("expected a close frame, got {other:?}"),
        }
    }
}

/// A user logged in with a device session: its access token and its socket.
struct Device {
    user_id: String,
    session_id: String,
    token: String,
    socket: Socket,
}

async fn device(base: &str, username: &str, password: &str) -> Device {
    let login = post(
        base,
        "/login",
        None,
        json!({"username": username, "password": password}),
    )
    .await;
    let token = login["token"].as_str().unwrap().to_owned();
    let session = post(
        base,
        "/sessions",
        Some(&token),
        json!({"device_id": "d1", "platform": "web", "model": "test", "build": 1, "name": "pc"}),
    )
    .await;
    let socket = connect(session["messaging_url"].as_str().unwrap()).await;
    Device {
        user_id: login["user_id"].as_str().unwrap().to_owned(),
        session_id: session["id"].as_str().unwrap().to_owned(),
        token: session["token"].as_str().unwrap().to_owned(),
        socket,
    }
}

async fn group_status(base: &str, token: &str, group_id: &str) -> u16 {
    reqwest::Client::new()
        .get(format!("{base}/groups/{group_id}"))
        .header("authorization", format!("bearer {token}"))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// Every command against the servers `cli` reaches; `bases` are the HTTP APIs of the replicas
/// (alice's device connects to the first, bob's to the last).
async fn every_command(cli: &Cli, bases: &[String]) {
    let (first, last) = (&bases[0], &bases[bases.len() - 1]);

    // user create: text, --json, the password from stdin, and its refusals.
    let created = cli
        .run(&[
            "user",
            "create",
            "alice",
            "--password",
            "pw-1",
            "--email",
            "alice@example.com",
        ])
        .await
        .ok();
    assert!(created.starts_with("user alice created\n"), "{created}");
    let bob = cli
        .run_with_stdin(
            &[
                "--json",
                "user",
                "create",
                "bob",
                "--password-stdin",
                "--first-name",
                "Bob",
            ],
            Some("pw-2\n"),
        )
        .await
        .json();
    assert_eq!(bob["username"], "bob");
    assert_eq!(bob["first_name"], "Bob");
    assert_eq!(bob["email"], Value::Null);
    assert!(bob["id"].as_str().unwrap().len() == 36 && bob["number"].as_i64().unwrap() > 0);
    assert!(bob["created_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(
        login_status(first, "bob", "pw-2").await,
        200,
        "stdin's password"
    );
    cli.run(&["user", "create", "carol", "--password", ""])
        .await
        .fails_with("password must be 1 to");
    cli.run(&["user", "create", "Alice", "--password", "x"])
        .await
        .fails_with("taken");
    cli.run(&["user", "create", "bad name!", "--password", "x"])
        .await
        .fails_with("cannot create user");

    // user show, by username, email or id.
    let alice = cli
        .run(&["--json", "user", "show", "alice@example.com"])
        .await
        .json();
    assert_eq!(alice["username"], "alice");
    let alice_id = alice["id"].as_str().unwrap().to_owned();
    let shown = cli.run(&["user", "show", &alice_id]).await.ok();
    assert!(shown.contains("username    alice"), "{shown}");
    cli.run(&["user", "show", "nobody"])
        .await
        .fails_with("no user \"nobody\"");

    // Alice on the first replica, Bob on the last; a group with three messages.
    let mut alice_device = device(first, "alice", "pw-1").await;
    let mut bob_device = device(last, "bob", "pw-2").await;
    assert_eq!(alice_device.user_id, alice_id);
    let group = post(
        first,
        "/groups",
        Some(&alice_device.token),
        json!({"name": "ops", "user_ids": [bob_device.user_id]}),
    )
    .await;
    let group_id = group["id"].as_str().unwrap().to_owned();
    assert_eq!(next_event(&mut alice_device.socket).await["type"], 70);
    assert_eq!(next_event(&mut bob_device.socket).await["type"], 70);
    for n in 1..=3 {
        let body = json!({"group_id": group_id, "data": format!("hello {n}"), "client_message_id": format!("c{n}")});
        alice_device
            .socket
            .send(Message::text(
                json!({"method": 40, "body": body}).to_string(),
            ))
            .await
            .unwrap();
        assert_eq!(next_event(&mut alice_device.socket).await["type"], 21);
    }

    // conversations
    let conversations = cli.run(&["--json", "conversations", "bob"]).await.json();
    let conversations = conversations.as_array().unwrap();
    assert_eq!(conversations.len(), 1);
    assert_eq!(conversations[0]["id"], group_id.as_str());
    assert_eq!(conversations[0]["kind"], "group");
    assert_eq!(conversations[0]["name"], "ops");
    assert_eq!(conversations[0]["last_seq"], 3);
    assert_eq!(conversations[0]["members"].as_array().unwrap().len(), 2);
    let number = conversations[0]["number"].as_i64().unwrap().to_string();
    let listed = cli.run(&["conversations", "alice"]).await.ok();
    assert!(
        listed.contains(&group_id) && listed.contains("ops"),
        "{listed}"
    );
    cli.run(&["conversations", "nobody"])
        .await
        .fails_with("no user \"nobody\"");

    // export: JSON Lines in seq order, by id or by number.
    let exported = cli.run(&["export", &group_id]).await.ok();
    let lines: Vec<Value> = exported
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(lines.len(), 3, "{exported}");
    for (n, line) in lines.iter().enumerate() {
        assert_eq!(line["seq"], n as i64 + 1);
        assert_eq!(line["text"], format!("hello {}", n + 1));
        assert_eq!(line["sender_id"], alice_id.as_str());
        assert_eq!(line["sender_username"], "alice");
        assert_eq!(line["conversation_id"], group_id.as_str());
        assert!(line["id"].as_str().unwrap().len() == 36);
        assert!(line["time"].as_str().unwrap().ends_with('Z'));
    }
    assert_eq!(cli.run(&["export", &number]).await.ok(), exported);
    let paged = cli
        .run(&["export", &group_id, "--page-size", "2"])
        .await
        .ok();
    assert_eq!(paged, exported, "two pages make the same export");
    let usage = cli.run(&["export", &group_id, "--page-size", "0"]).await;
    assert_eq!(usage.code, 2, "{}", usage.stderr);
    cli.run(&["export", &uuid::Uuid::new_v4().to_string()])
        .await
        .fails_with("no conversation");
    cli.run(&["export", "999999"])
        .await
        .fails_with("no conversation \"999999\"");

    // stats: counts and the online sessions of each replica.
    let stats = cli.run(&["--json", "stats"]).await.json();
    assert_eq!(stats["users"], 2);
    assert_eq!(stats["conversations"], 1);
    assert_eq!(stats["messages"], 3);
    let online = stats["online"].as_array().unwrap();
    // Replicas take their node id from HOSTNAME when it is set: then they share one.
    let replicas = match std::env::var("HOSTNAME") {
        Ok(host) if !host.is_empty() => 1,
        _ => bases.len(),
    };
    assert_eq!(online.len(), replicas, "one entry per replica: {stats}");
    let sessions: u64 = online.iter().map(|n| n["sessions"].as_u64().unwrap()).sum();
    assert_eq!(sessions, 2, "{stats}");
    assert!(online.iter().all(|n| n["node"].is_string()));
    let text = cli.run(&["stats"]).await.ok();
    assert!(
        text.contains("users          2") && text.contains("messages       3"),
        "{text}"
    );

    // sessions list: two logins' sessions (each login opens one) and the device's.
    let listed = cli.run(&["--json", "sessions", "bob"]).await;
    assert_eq!(
        listed.code, 2,
        "a subcommand is required: {}",
        listed.stderr
    );
    let sessions = cli.run(&["--json", "sessions", "list", "bob"]).await.json();
    let sessions = sessions.as_array().unwrap();
    assert_eq!(sessions.len(), 3, "{sessions:?}");
    assert!(
        sessions
            .iter()
            .any(|s| s["id"] == bob_device.session_id.as_str()
                && s["platform"] == "web"
                && s["name"] == "pc")
    );
    cli.run(&["sessions", "list", "nobody"])
        .await
        .fails_with("no user");

    // sessions revoke: the socket on the other replica closes, the token is refused.
    assert_eq!(group_status(last, &bob_device.token, &group_id).await, 200);
    cli.run(&[
        "sessions",
        "revoke",
        "bob",
        &uuid::Uuid::new_v4().to_string(),
    ])
    .await
    .fails_with("not a live session");
    let revoked = cli
        .run(&[
            "--json",
            "sessions",
            "revoke",
            "bob",
            &bob_device.session_id,
        ])
        .await
        .json();
    assert_eq!(revoked, json!({"revoked": [bob_device.session_id]}));
    assert_eq!(closed_with(&mut bob_device.socket).await, 1008);
    assert_eq!(group_status(last, &bob_device.token, &group_id).await, 401);
    let left = cli.run(&["--json", "sessions", "list", "bob"]).await.json();
    assert_eq!(left.as_array().unwrap().len(), 2);
    let all = cli.run(&["sessions", "revoke", "bob", "--all"]).await.ok();
    assert!(all.starts_with("2 session(s) of bob revoked"), "{all}");
    let none = cli.run(&["sessions", "list", "bob"]).await.ok();
    assert_eq!(none, "bob has no live session\n");
    let usage = cli.run(&["sessions", "revoke", "bob"]).await;
    assert_eq!(usage.code, 2, "ids or --all: {}", usage.stderr);

    // user reset-password
    let reset = cli
        .run(&[
            "--json",
            "user",
            "reset-password",
            "alice",
            "--password",
            "pw-new",
        ])
        .await
        .json();
    assert_eq!(reset["password_set"], true);
    assert_eq!(reset["user"]["username"], "alice");
    assert_eq!(login_status(first, "alice", "pw-1").await, 401);
    assert_eq!(login_status(first, "alice", "pw-new").await, 200);
    cli.run(&["user", "reset-password", "alice", "--password", ""])
        .await
        .fails_with("password must be 1 to");
    cli.run(&["user", "reset-password", "nobody", "--password", "x"])
        .await
        .fails_with("no user");

    // user delete: alice's sockets close, her name is free, her messages stay.
    let deleted = cli.run(&["--json", "user", "delete", "alice"]).await.json();
    assert_eq!(deleted["deleted"], true);
    assert_eq!(deleted["user"]["id"], alice_id.as_str());
    assert!(
        deleted["revoked_sessions"]
            .as_array()
            .unwrap()
            .contains(&json!(alice_device.session_id))
    );
    assert_eq!(closed_with(&mut alice_device.socket).await, 1008);
    cli.run(&["user", "show", "alice"])
        .await
        .fails_with("no user \"alice\"");
    cli.run(&["user", "delete", "alice"])
        .await
        .fails_with("no user \"alice\"");
    let exported = cli.run(&["export", &group_id]).await.ok();
    assert_eq!(exported.lines().count(), 3, "messages keep their sender");
    // The replicas mark the closed sockets offline as they go.
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    loop {
        let stats = cli.run(&["--json", "stats"]).await.json();
        assert_eq!(stats["users"], 1);
        if stats["online"] == json!([]) {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "still online: {stats}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn every_command_on_the_single_process_with_sqlite() {
    let data_dir = fresh_dir("admin-sqlite");
    let server = Server::start(&data_dir, &[]).await;
    let cli = Cli {
        global: vec!["--data-dir".into(), data_dir.to_str().unwrap().into()],
        admin: Vec::new(),
    };
    every_command(&cli, std::slice::from_ref(&server.base)).await;
    let file = server.admin_file();
    server.stop().await;

    // With the server stopped the command works on the stores by itself...
    let shown = cli.run(&["--json", "user", "show", "bob"]).await.json();
    assert_eq!(shown["username"], "bob");
    cli.run(&["user", "create", "dave", "--password", "pw"])
        .await
        .ok();
    // ...also when a server that crashed left its admin file behind.
    std::fs::write(data_dir.join("admin.json"), file.to_string()).unwrap();
    let stats = cli.run(&["--json", "stats"]).await.json();
    assert_eq!(stats["users"], 2);
    assert_eq!(stats["online"], json!([]));
    // A directory with no server data is refused rather than filled with empty stores.
    let empty = fresh_dir("admin-empty");
    Cli {
        global: vec!["--data-dir".into(), empty.to_str().unwrap().into()],
        admin: Vec::new(),
    }
    .run(&["stats"])
    .await
    .fails_with("no chat-backend data in");
    assert!(!empty.exists());
    let _ = std::fs::remove_dir_all(&data_dir);
}

#[tokio::test]
async fn every_command_on_two_replicas_with_postgres_and_redis() {
    let admin_url = service_runtime::postgres::test_admin_url();
    let database = service_runtime::postgres::create_test_database(&admin_url)
        .await
        .expect("tests need Postgres: run scripts/test.sh or set TEST_DATABASE_URL");
    let redis =
        std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
    let prefix = format!("test:{}:", uuid::Uuid::new_v4().simple());
    let secret = "s".repeat(40);
    let shared = [
        "--database-url",
        database.as_str(),
        "--redis-url",
        redis.as_str(),
        "--redis-key-prefix",
        prefix.as_str(),
        "--jwt-secret",
        secret.as_str(),
    ];
    let (dir1, dir2) = (fresh_dir("admin-pg-1"), fresh_dir("admin-pg-2"));
    let one = Server::start(&dir1, &shared).await;
    let two = Server::start(&dir2, &shared).await;
    // As against a services deployment: the services' URLs and their admin token.
    let file = one.admin_file();
    let urls = vec![
        "--auth-url".to_owned(),
        file["auth_url"].as_str().unwrap().to_owned(),
        "--chat-url".to_owned(),
        file["chat_url"].as_str().unwrap().to_owned(),
    ];
    let mut admin = urls.clone();
    admin.extend([
        "--admin-token".to_owned(),
        file["admin_token"].as_str().unwrap().to_owned(),
    ]);
    let cli = Cli {
        global: Vec::new(),
        admin,
    };
    every_command(&cli, &[one.base.clone(), two.base.clone()]).await;

    // The admin RPCs answer only the admin token.
    let mut wrong = urls.clone();
    wrong.extend([
        "--admin-token".to_owned(),
        "not-the-token-at-all".to_owned(),
    ]);
    Cli {
        global: Vec::new(),
        admin: wrong,
    }
    .run(&["stats"])
    .await
    .fails_with("refused the admin token");
    Cli {
        global: Vec::new(),
        admin: urls.clone(),
    }
    .run(&["stats"])
    .await
    .fails_with("--admin-token (or ADMIN_TOKEN) is required");
    let mut gone = vec![
        "--auth-url".to_owned(),
        "http://127.0.0.1:9".to_owned(),
        "--chat-url".to_owned(),
        "http://127.0.0.1:9".to_owned(),
    ];
    gone.extend(["--admin-token".to_owned(), "0123456789abcdef".to_owned()]);
    Cli {
        global: Vec::new(),
        admin: gone,
    }
    .run(&["stats"])
    .await
    .fails_with("cannot reach auth-service at http://127.0.0.1:9");

    one.stop().await;
    two.stop().await;
    let _ = std::fs::remove_dir_all(&dir1);
    let _ = std::fs::remove_dir_all(&dir2);
}
