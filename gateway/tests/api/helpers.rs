//! Starts the whole backend for one test, and the small HTTP and WebSocket clients tests use.

use std::sync::Arc;
use std::time::Duration;

use auth_service::{AuthService, PgAuthStore, SqliteAuthStore, TokenSettings};
use chat_service::{PgChatStore, SqliteChatStore};
use futures_util::{SinkExt, StreamExt};
use gateway::{EventBus, GatewayOptions, MemoryBus, RedisBus, Services};
use presence_service::{MemoryPresence, RedisPresence};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

pub const TIMEOUT: Duration = Duration::from_secs(10);

/// A running backend: the services and `replicas` gateways. Dropping it shuts them down.
pub struct Stack {
    pub gateways: Vec<String>,
    /// auth-service's store, for the operator's commands (`platform create`).
    pub auth_store: AuthStoreHandle,
    /// Prefix of this stack's Redis keys and channels.
    pub redis_prefix: String,
    pub http: reqwest::Client,
    _shutdown: Vec<oneshot::Sender<()>>,
    data_dir: Option<std::path::PathBuf>,
}

impl Drop for Stack {
    fn drop(&mut self) {
        if let Some(dir) = &self.data_dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

async fn bind() -> (TcpListener, String) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address").to_string();
    (listener, address)
}

fn stopper(
    senders: &mut Vec<oneshot::Sender<()>>,
) -> impl std::future::Future<Output = ()> + Send + 'static {
    let (sender, receiver) = oneshot::channel::<()>();
    senders.push(sender);
    async move {
        let _ = receiver.await;
    }
}

pub fn redis_url() -> String {
    std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

/// Where the services keep their state.
#[derive(Debug, Clone, Copy)]
pub enum Backend {
    /// Postgres for auth and chat, Redis for presence and the bus between replicas.
    PostgresRedis,
    /// SQLite files, in-memory presence, and an in-process bus shared by the replicas.
    SqliteMemory,
}

fn token_settings() -> TokenSettings {
    TokenSettings {
        secret: b"an end-to-end test secret of at least 32 bytes".to_vec(),
        key_id: "test".into(),
        previous_keys: Vec::new(),
        issuer: "chat-backend".into(),
        audience: "chat-clients".into(),
        ttl: Duration::from_secs(3600),
    }
}

pub async fn spawn_stack(backend: Backend, replicas: usize) -> Stack {
    spawn_stack_mailing(backend, replicas, None).await
}

/// A stack whose gateways send mail through `smtp_url`; without one, into `.eml` files.
pub async fn spawn_stack_mailing(
    backend: Backend,
    replicas: usize,
    smtp_url: Option<&str>,
) -> Stack {
    spawn_stack_with(backend, replicas, smtp_url, None).await
}

/// A stack whose gateways send mail through `smtp_url` (else into `.eml` files) and whose bot
/// chat is answered by the BotService at `bot_url` (else by the built-in bot).
pub async fn spawn_stack_with(
    backend: Backend,
    replicas: usize,
    smtp_url: Option<&str>,
    bot_url: Option<&str>,
) -> Stack {
    let mut shutdown = Vec::new();
    let (auth_listener, auth_address) = bind().await;
    let (chat_listener, chat_address) = bind().await;
    let (presence_listener, presence_address) = bind().await;
    let prefix = format!("test:{}:", uuid::Uuid::new_v4().simple());
    let mut data_dir = None;
    let auth_store;
    let shared_bus: Option<Arc<MemoryBus>> = match backend {
        Backend::PostgresRedis => {
            let admin = service_runtime::postgres::test_admin_url();
            let database = service_runtime::postgres::create_test_database(&admin)
                .await
                .expect("tests need Postgres: run scripts/test.sh or set TEST_DATABASE_URL");
            let store = PgAuthStore::connect(&database, 5)
                .await
                .expect("auth store");
            auth_store = AuthStoreHandle::Postgres(store.clone());
            let service = AuthService::new(store, token_settings());
            tokio::spawn(auth_service::serve(
                auth_listener,
                service,
                stopper(&mut shutdown),
            ));
            let store = PgChatStore::connect(&database, 10)
                .await
                .expect("chat store");
            let bus = RedisBus::connect(&redis_url(), &prefix)
                .await
                .expect("Redis bus");
            let publisher =
                chat_service::Publisher::new(Arc::new(bus), &format!("http://{presence_address}"))
                    .expect("presence URL");
            tokio::spawn(chat_service::serve(
                chat_listener,
                store,
                Some(publisher),
                stopper(&mut shutdown),
            ));
            let presence = RedisPresence::connect(&redis_url(), &prefix)
                .await
                .expect("tests need Redis: run scripts/test.sh or set TEST_REDIS_URL");
            tokio::spawn(presence_service::serve(
                presence_listener,
                presence,
                stopper(&mut shutdown),
            ));
            None
        }
        Backend::SqliteMemory => {
            let dir = std::env::temp_dir()
                .join(format!("gateway-test-{}", uuid::Uuid::new_v4().simple()));
            let store = SqliteAuthStore::open(&dir.join("auth.sqlite3"))
                .await
                .expect("auth store");
            auth_store = AuthStoreHandle::Sqlite(store.clone());
            let service = AuthService::new(store, token_settings());
            tokio::spawn(auth_service::serve(
                auth_listener,
                service,
                stopper(&mut shutdown),
            ));
            let store = SqliteChatStore::open(&dir.join("chat.sqlite3"))
                .await
                .expect("chat store");
            let bus = Arc::new(MemoryBus::new());
            let publisher =
                chat_service::Publisher::new(bus.clone(), &format!("http://{presence_address}"))
                    .expect("presence URL");
            tokio::spawn(chat_service::serve(
                chat_listener,
                store,
                Some(publisher),
                stopper(&mut shutdown),
            ));
            tokio::spawn(presence_service::serve(
                presence_listener,
                MemoryPresence::new(),
                stopper(&mut shutdown),
            ));
            data_dir = Some(dir);
            Some(bus)
        }
    };

    let mut gateways = Vec::new();
    for replica in 0..replicas {
        let (listener, address) = bind().await;
        let services = Services::connect_lazy(
            &format!("http://{auth_address}"),
            &format!("http://{chat_address}"),
            &format!("http://{presence_address}"),
        )
        .expect("service URLs");
        let bus: Arc<dyn EventBus> = match &shared_bus {
            Some(bus) => bus.clone(),
            None => Arc::new(
                RedisBus::connect(&redis_url(), &prefix)
                    .await
                    .expect("Redis bus"),
            ),
        };
        let options = GatewayOptions {
            node_id: format!("gateway-{replica}"),
            websocket_base: format!("ws://{address}"),
            allowed_origins: Vec::new(),
            public_base: format!("http://{address}"),
            mailer: gateway::mail::Mailer::new(
                smtp_url,
                "Tests <tests@chat.example>",
                std::env::temp_dir()
                    .join(format!("gateway-test-mail-{}", prefix.replace(':', "-"))),
            )
            .expect("mailer"),
            bot: gateway::bot::BotChoice::from_url(bot_url).expect("bot URL"),
            connections: Default::default(),
        };
        tokio::spawn(gateway::serve(
            listener,
            services,
            bus,
            options,
            stopper(&mut shutdown),
        ));
        gateways.push(format!("http://{address}"));
    }
    Stack {
        gateways,
        auth_store,
        http: reqwest::Client::new(),
        _shutdown: shutdown,
        data_dir,
        redis_prefix: prefix,
    }
}

/// The auth store a stack runs on, as an operator's command reaches it.
#[derive(Clone)]
pub enum AuthStoreHandle {
    Postgres(PgAuthStore),
    Sqlite(SqliteAuthStore),
}

impl AuthStoreHandle {
    /// `platform create NAME`: the platform's API key.
    pub async fn create_platform(&self, name: &str) -> String {
        let created = match self {
            AuthStoreHandle::Postgres(store) => {
                auth_service::platform_admin::create_platform(store, name).await
            }
            AuthStoreHandle::Sqlite(store) => {
                auth_service::platform_admin::create_platform(store, name).await
            }
        };
        created.expect("create a platform").1
    }

    /// `platform revoke NAME`.
    pub async fn revoke_platform(&self, name: &str) {
        use auth_service::AuthStore;
        let revoked = match self {
            AuthStoreHandle::Postgres(store) => store.revoke_platform(name).await,
            AuthStoreHandle::Sqlite(store) => store.revoke_platform(name).await,
        };
        assert!(revoked.expect("revoke a platform"), "no platform {name}");
    }
}

/// A user registered, logged in and holding a session, through one gateway replica.
pub struct User {
    pub id: String,
    pub token: String,
    pub session_id: String,
    pub messaging_url: String,
}

impl Stack {
    pub async fn post(
        &self,
        replica: usize,
        path: &str,
        token: Option<&str>,
        body: Value,
    ) -> (u16, Value) {
        let mut request = self
            .http
            .post(format!("{}{path}", self.gateways[replica]))
            .json(&body);
        if let Some(token) = token {
            request = request.header("authorization", format!("bearer {token}"));
        }
        respond(request).await
    }

    pub async fn put(&self, replica: usize, path: &str, token: &str, body: Value) -> (u16, Value) {
        let request = self
            .http
            .put(format!("{}{path}", self.gateways[replica]))
            .header("authorization", format!("bearer {token}"))
            .json(&body);
        respond(request).await
    }

    pub async fn get(&self, replica: usize, path: &str, token: &str) -> (u16, Value) {
        let request = self
            .http
            .get(format!("{}{path}", self.gateways[replica]))
            .header("authorization", format!("bearer {token}"));
        respond(request).await
    }

    /// Any request: `token` as `Authorization: Bearer`, `body` as JSON.
    pub async fn call(
        &self,
        replica: usize,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.gateways[replica]));
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        respond(request).await
    }

    /// A raw body with `Authorization: Bearer <token>`.
    pub async fn raw_with_token(
        &self,
        replica: usize,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: &str,
    ) -> (u16, Value) {
        let request = self
            .http
            .request(method, format!("{}{path}", self.gateways[replica]))
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", "application/json")
            .body(body.to_owned());
        respond(request).await
    }

    pub async fn raw(
        &self,
        replica: usize,
        method: reqwest::Method,
        path: &str,
        body: &str,
    ) -> (u16, Value) {
        let request = self
            .http
            .request(method, format!("{}{path}", self.gateways[replica]))
            .header("content-type", "application/json")
            .body(body.to_owned());
        respond(request).await
    }

    /// Registers `name`, logs in and opens a session, all through `replica`.
    pub async fn user(&self, replica: usize, name: &str) -> User {
        let (status, created) = self
            .post(replica, "/users", None, json!({"username": name, "email": format!("{name}@example.com"), "password": "0000"}))
            .await;
        assert_eq!(status, 200, "register {name}: {created}");
        let (status, login) = self
            .post(replica, "/login", None, json!({"username": name, "email": format!("{name}@example.com"), "password": "0000"}))
            .await;
        assert_eq!(status, 200, "login {name}: {login}");
        let token = login["token"].as_str().expect("token").to_owned();
        let (status, session) = self
            .post(replica, "/sessions", Some(&token), json!({"device_id": "0000", "platform": "web", "model": "chrome", "build": 1, "name": "test-pc"}))
            .await;
        assert_eq!(status, 200, "session {name}: {session}");
        User {
            id: created["id"].as_str().expect("id").to_owned(),
            token,
            session_id: session["id"].as_str().expect("session id").to_owned(),
            messaging_url: session["messaging_url"]
                .as_str()
                .expect("messaging_url")
                .to_owned(),
        }
    }

    /// Creates a group as `owner` with `members` and returns its id.
    pub async fn group(
        &self,
        replica: usize,
        owner: &User,
        name: &str,
        members: &[&User],
    ) -> String {
        let ids: Vec<&str> = members.iter().map(|m| m.id.as_str()).collect();
        let (status, body) = self
            .post(
                replica,
                "/groups",
                Some(&owner.token),
                json!({"name": name, "user_ids": ids}),
            )
            .await;
        assert_eq!(status, 200, "create group: {body}");
        let id = body["id"].as_str().expect("group id").to_owned();
        // On Postgres the relay gives the creation event its position in a pass of its own,
        // after this answer. Waiting until the owner's log shows it (by catch-up or live, both
        // after it has a position) makes a socket opened next start after it, as on SQLite,
        // instead of getting it live or not depending on the relay's timing.
        let url = format!("{}?position=0", owner.messaging_url);
        let mut log = Socket::connect_unready(url.as_str()).await;
        loop {
            let event = log.next().await;
            if event["type"] == 70 && event["body"]["group_id"] == id.as_str() {
                break;
            }
        }
        id
    }
}

async fn respond(request: reqwest::RequestBuilder) -> (u16, Value) {
    let response = request.send().await.expect("HTTP request");
    let status = response.status().as_u16();
    let text = response.text().await.expect("body");
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    (status, body)
}

type Stream =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A WebSocket client of the native protocol.
pub struct Socket {
    stream: Stream,
}

impl Socket {
    /// Connects and waits until the server has taken the socket in (a ping answered means
    /// its connection loop runs, so presence knows the socket and events reach it).
    pub async fn connect(url: &str) -> Socket {
        Self::connect_request(url).await
    }

    /// Connects without waiting for the socket to be ready: what it writes first (a catch-up
    /// its URL asked for) is read like any event, not dropped on the way to a pong.
    pub async fn connect_unready(
        request: impl tokio_tungstenite::tungstenite::client::IntoClientRequest + Unpin,
    ) -> Socket {
        let (stream, _) = tokio_tungstenite::connect_async(request)
            .await
            .expect("WebSocket connect");
        Socket { stream }
    }

    /// Connects with a handshake request of the caller's making (extra headers, cookies).
    pub async fn connect_request(
        request: impl tokio_tungstenite::tungstenite::client::IntoClientRequest + Unpin,
    ) -> Socket {
        let mut socket = Self::connect_unready(request).await;
        socket
            .stream
            .send(Message::Ping(b"ready".to_vec().into()))
            .await
            .expect("ping");
        loop {
            let frame = tokio::time::timeout(TIMEOUT, socket.stream.next())
                .await
                .expect("timed out waiting for pong")
                .expect("socket ended")
                .expect("socket error");
            if let Message::Pong(_) = frame {
                return socket;
            }
        }
    }

    pub async fn send(&mut self, value: Value) {
        self.send_text(&value.to_string()).await;
    }

    pub async fn send_text(&mut self, text: &str) {
        self.stream
            .send(Message::text(text))
            .await
            .expect("WebSocket send");
    }

    /// The next text frame, as raw text.
    pub async fn next_text(&mut self) -> String {
        loop {
            let frame = tokio::time::timeout(TIMEOUT, self.stream.next())
                .await
                .expect("timed out waiting for an event")
                .expect("socket ended")
                .expect("socket error");
            match frame {
                Message::Text(text) => return text.to_string(),
                Message::Close(frame) => panic!("socket closed: {frame:?}"),
                _ => continue,
            }
        }
    }

    pub async fn next(&mut self) -> Value {
        serde_json::from_str(&self.next_text().await).expect("event is JSON")
    }

    /// The next event, which must be of type `kind`.
    pub async fn expect(&mut self, kind: u64) -> Value {
        let event = self.next().await;
        assert_eq!(event["type"], kind, "expected event {kind}, got {event}");
        assert!(
            event["timestamp"].as_i64().is_some_and(|t| t > 0),
            "timestamp in {event}"
        );
        event
    }

    /// The next JSON frame if one arrives within `wait`.
    pub async fn next_within(&mut self, wait: Duration) -> Option<Value> {
        loop {
            let frame = tokio::time::timeout(wait, self.stream.next())
                .await
                .ok()??;
            match frame.expect("socket error") {
                Message::Text(text) => return Some(serde_json::from_str(&text).expect("JSON")),
                Message::Close(frame) => panic!("socket closed: {frame:?}"),
                _ => continue,
            }
        }
    }

    /// Asserts that nothing arrives for a moment.
    pub async fn expect_silence(&mut self) {
        match tokio::time::timeout(Duration::from_millis(300), self.stream.next()).await {
            Err(_) => {}
            Ok(frame) => panic!("expected silence, got {frame:?}"),
        }
    }

    /// Waits for the server to close the socket and returns the close code.
    pub async fn expect_close(&mut self) -> CloseCode {
        loop {
            let frame = tokio::time::timeout(TIMEOUT, self.stream.next())
                .await
                .expect("timed out waiting for close");
            match frame {
                Some(Ok(Message::Close(Some(frame)))) => return frame.code,
                Some(Ok(Message::Close(None))) | None => panic!("closed without a code"),
                Some(Ok(_)) => continue,
                Some(Err(error)) => panic!("socket error instead of a close: {error}"),
            }
        }
    }
}
