//! Connections that never finish, or too many from one address, are not kept: the server is
//! started as an operator would start it, with `--request-read-timeout 1`,
//! `--unauthenticated-socket-timeout 1` and `--max-connections-per-address 4`, and is then
//! attacked over raw TCP and WebSockets.

use std::time::{Duration, Instant};

use chat_backend::Options;
use clap::Parser;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::Message;

/// Longer than any limit the server is started with, with room for a loaded machine.
const WITHIN: Duration = Duration::from_secs(5);

struct Server {
    address: String,
    _stop: tokio::sync::oneshot::Sender<()>,
    _data_dir: TempDir,
}

struct TempDir(std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

async fn start() -> Server {
    let data_dir = std::env::temp_dir().join(format!(
        "chat-backend-limits-{}",
        uuid::Uuid::new_v4().simple()
    ));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let options = Options::parse_from([
        "chat-backend",
        "--data-dir",
        data_dir.to_str().unwrap(),
        "--request-read-timeout",
        "1",
        "--unauthenticated-socket-timeout",
        "1",
        "--max-connections-per-address",
        "4",
    ]);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(chat_backend::run(options, listener, async move {
        let _ = stopped.await;
    }));
    let server = Server {
        address,
        _stop: stop,
        _data_dir: TempDir(data_dir),
    };
    // Ready once the services answer.
    let ready = format!("http://{}/readyz", server.address);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(response) = reqwest::get(&ready).await
            && response.status().is_success()
        {
            return server;
        }
        assert!(Instant::now() < deadline, "the server never became ready");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Reads until the server closes the connection, returning what it wrote; fails if it is
/// still open after [`WITHIN`].
async fn read_until_closed(stream: &mut TcpStream) -> (String, Duration) {
    let started = Instant::now();
    let mut answer = Vec::new();
    let read = tokio::time::timeout(WITHIN, async {
        let mut chunk = [0u8; 1024];
        loop {
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => answer.extend_from_slice(&chunk[..n]),
            }
        }
    })
    .await;
    assert!(
        read.is_ok(),
        "the connection was still open after {WITHIN:?}"
    );
    (
        String::from_utf8_lossy(&answer).into_owned(),
        started.elapsed(),
    )
}

/// Registers `login` (echat's dialect) and logs in on the web app's, whose socket takes its token.
async fn register(server: &Server, login: &str) -> String {
    let client = reqwest::Client::new();
    let base = format!("http://{}", server.address);
    let password = "correct horse battery";
    let registered = client
        .post(format!("{base}/v1/register"))
        .json(&json!({"login": login, "password": password}))
        .send()
        .await
        .unwrap();
    assert!(registered.status().is_success(), "{}", registered.status());
    let login: Value = client
        .post(format!("{base}/http/login"))
        .json(&json!({"email": login, "password": password}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    login["token"].as_str().expect("a token").to_owned()
}

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<TcpStream>>;

async fn open_socket(server: &Server, token: &str) -> Socket {
    let url = format!("ws://{}/socket?token={token}", server.address);
    let (socket, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    socket
}

#[tokio::test]
async fn a_request_head_that_never_finishes_is_closed_in_time() {
    let server = start().await;

    // Half a request head, and then nothing.
    let mut slow = TcpStream::connect(&server.address).await.unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: chat\r\nX-Slow: ")
        .await
        .unwrap();
    let (_, after) = read_until_closed(&mut slow).await;
    assert!(
        after >= Duration::from_millis(900),
        "closed after {after:?}"
    );

    // A connection that never sends a byte.
    let mut silent = TcpStream::connect(&server.address).await.unwrap();
    read_until_closed(&mut silent).await;

    // A keep-alive connection idle after its request is closed too; the request was answered.
    let mut idle = TcpStream::connect(&server.address).await.unwrap();
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: chat\r\n\r\n")
        .await
        .unwrap();
    let (answer, _) = read_until_closed(&mut idle).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");

    // A client that sends in time is served.
    let healthz = reqwest::get(format!("http://{}/healthz", server.address))
        .await
        .unwrap();
    assert_eq!(healthz.status(), 200);
}

#[tokio::test]
async fn a_request_body_that_never_finishes_is_refused_in_the_dialects_shape() {
    let server = start().await;
    let mut slow = TcpStream::connect(&server.address).await.unwrap();
    slow.write_all(
        b"POST /v1/register HTTP/1.1\r\nHost: chat\r\nContent-Type: application/json\r\n\
          Content-Length: 100\r\n\r\n{\"login\":",
    )
    .await
    .unwrap();
    let (answer, after) = read_until_closed(&mut slow).await;
    assert!(
        after >= Duration::from_millis(900),
        "closed after {after:?}"
    );
    assert!(answer.starts_with("HTTP/1.1 4"), "{answer}");
    assert!(answer.contains("\"error\""), "{answer}");
    // Nothing was registered: the login is free.
    register(&server, "slowpoke").await;
}

#[tokio::test]
async fn a_socket_that_never_authenticates_is_closed_with_1008() {
    let server = start().await;
    let url = format!("ws://{}/socket", server.address);
    let (mut socket, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    let started = Instant::now();
    let close = tokio::time::timeout(WITHIN, async {
        while let Some(frame) = socket.next().await {
            if let Ok(Message::Close(frame)) = frame {
                return frame;
            }
        }
        None
    })
    .await
    .expect("the unauthenticated socket was still open");
    let close = close.expect("a close frame");
    assert_eq!(u16::from(close.code), 1008);
    assert!(started.elapsed() >= Duration::from_millis(900));
}

#[tokio::test]
async fn one_address_holds_at_most_its_cap_of_connections() {
    let server = start().await;
    let token = register(&server, "crowd").await;

    // Four WebSockets: the cap. Upgraded connections count for as long as they are open.
    let mut sockets = Vec::new();
    for _ in 0..4 {
        sockets.push(open_socket(&server, &token).await);
    }
    let mut fifth = TcpStream::connect(&server.address).await.unwrap();
    fifth
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: chat\r\n\r\n")
        .await
        .unwrap();
    let (answer, _) = read_until_closed(&mut fifth).await;
    assert!(answer.starts_with("HTTP/1.1 429"), "{answer}");
    assert!(answer.contains("too_many_connections"), "{answer}");

    // The sockets over the cap changed nothing for those inside it.
    let socket = &mut sockets[0];
    socket
        .send(Message::Ping(b"still here".to_vec().into()))
        .await
        .unwrap();
    let pong = tokio::time::timeout(WITHIN, async {
        loop {
            if let Some(Ok(Message::Pong(payload))) = socket.next().await {
                return payload;
            }
        }
    })
    .await
    .unwrap();
    assert_eq!(&pong[..], b"still here");

    // One closes: its place is free again.
    let mut closing = sockets.pop().unwrap();
    closing.close(None).await.unwrap();
    while closing.next().await.is_some() {}
    drop(closing);
    let deadline = Instant::now() + WITHIN;
    loop {
        let response = reqwest::Client::new()
            .get(format!("http://{}/healthz", server.address))
            .send()
            .await
            .unwrap();
        if response.status() == 200 {
            break;
        }
        assert_eq!(response.status(), 429);
        assert!(
            Instant::now() < deadline,
            "the closed socket's place never came back"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
