//! The whole chat backend in one process: the same four services wired as in production —
//! auth, chat and presence behind their gRPC interfaces, and the gateway in front — on SQLite
//! and in-memory presence and events, or on Postgres and Redis when their URLs are given. The
//! gateway and the log relay call the services in the process, without a connection; auth and
//! chat also listen on loopback ports, for `chat-backend admin`.

pub mod admin;
pub mod config;
mod secret;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use auth_service::{AuthService, AuthStore, PgAuthStore, SqliteAuthStore, TokenSettings};
use chat_proto::admin::presence_admin_server::PresenceAdminServer;
use chat_proto::auth::auth_server::AuthServer;
use chat_proto::chat::chat_server::ChatServer;
use chat_proto::presence::presence_server::PresenceServer;
use chat_service::{ChatService, ChatStore, PgChatStore, Publisher, SqliteChatStore};
use gateway::{EventBus, GatewayOptions, MemoryBus, RedisBus, Services};
use presence_service::{
    MemoryPresence, PresenceAdminService, PresenceService, PresenceStore, RedisPresence,
};
use service_runtime::grpc::{self, Local};
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;

pub use config::{Command, Options};

/// Runs an operator's command on the storage `options` name: the SQLite file in the data
/// directory, or Postgres at `--database-url`.
pub async fn command(options: &Options, command: Command) -> anyhow::Result<()> {
    let command = match command {
        Command::Platform(command) => command,
        Command::Admin(args) => return admin::run(options, args).await,
    };
    match &options.database_url {
        Some(url) => {
            let store = PgAuthStore::connect(url, 1).await?;
            auth_service::platform_admin::run_platform_command(&store, command).await
        }
        None => {
            std::fs::create_dir_all(&options.data_dir)
                .with_context(|| format!("cannot create {}", options.data_dir.display()))?;
            let path = options.data_dir.join("auth.sqlite3");
            let store = SqliteAuthStore::open(&path).await?;
            auth_service::platform_admin::run_platform_command(&store, command).await
        }
    }
}

/// How long the services get to stop once the gateway has drained.
const SERVICES_GRACE: Duration = Duration::from_secs(5);

type Stopped = watch::Receiver<bool>;

pub(crate) async fn when_stopped(mut stopped: Stopped) {
    let _ = stopped.wait_for(|stop| *stop).await;
}

pub(crate) async fn loopback() -> anyhow::Result<(TcpListener, String)> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    Ok((listener, url))
}

/// Runs until `shutdown` resolves, then drains the gateway (sockets close with 1012 after the
/// requests in hand) and stops the services.
pub async fn run(
    options: Options,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    std::fs::create_dir_all(&options.data_dir)
        .with_context(|| format!("cannot create {}", options.data_dir.display()))?;
    let data_dir = options.data_dir.canonicalize()?;
    let (stop, stopped) = watch::channel(false);
    let mut tasks = JoinSet::new();

    let secret = secret::load_or_create(options.jwt_secret.as_deref(), &data_dir)?;
    let tokens = token_settings(secret, &options);
    // A new operator's token each start; `chat-backend admin` finds it, with the services'
    // URLs, in the data directory (readable by the owner only) while the server runs.
    let admin_token = random_hex(32);
    let (auth_listener, auth_url) = loopback().await?;
    let (chat_listener, chat_url) = loopback().await?;
    // The gateway and the relay call the services in this process without a connection
    // (`local`); auth and chat also listen on loopback ports, for `chat-backend admin`.
    let local = Local::new().await;
    let (bus, node_id, relay, local): (Arc<dyn EventBus>, String, &str, Local) =
        match &options.redis_url {
            Some(url) => {
                let presence = RedisPresence::connect(url, &options.redis_key_prefix)
                    .await
                    .with_context(|| format!("cannot connect to Redis at {url}"))?;
                let local = add_presence(presence, local).await;
                let bus = RedisBus::connect(url, &options.redis_key_prefix).await?;
                let node = std::env::var("HOSTNAME")
                    .ok()
                    .filter(|h| !h.is_empty())
                    .unwrap_or_else(random_node_id);
                (Arc::new(bus), node, "Redis", local)
            }
            None => {
                let presence = MemoryPresence::new();
                let local = add_presence(presence, local).await;
                (
                    Arc::new(MemoryBus::new()),
                    "local".to_owned(),
                    "memory",
                    local,
                )
            }
        };

    // chat-service's log relay publishes on the same bus, asking presence where users are.
    let publisher = Publisher::over(bus.clone(), grpc::in_process(&local, RELAY_CALL_TIMEOUT));
    let wiring = Wiring {
        auth_listener,
        chat_listener,
        tokens,
        publisher,
        admin_token: admin_token.clone(),
        stopped: stopped.clone(),
    };
    let (storage, local) = match &options.database_url {
        Some(url) => {
            let auth = PgAuthStore::connect(url, 10).await?;
            let chat = PgChatStore::connect(url, 20).await?;
            let storage = format!("Postgres at {}", service_runtime::postgres::redact(url));
            (storage, wiring.spawn(&mut tasks, auth, chat, local).await)
        }
        None => {
            let auth = SqliteAuthStore::open(&data_dir.join("auth.sqlite3")).await?;
            let chat = SqliteChatStore::open(&data_dir.join("chat.sqlite3")).await?;
            let storage = format!("SQLite in {}", data_dir.display());
            (storage, wiring.spawn(&mut tasks, auth, chat, local).await)
        }
    };
    let admin_file = admin::write_admin_file(
        &data_dir,
        &admin::AdminFile {
            auth_url: auth_url.clone(),
            chat_url: chat_url.clone(),
            admin_token: admin_token.clone(),
            pid: std::process::id(),
        },
    )?;
    let address: SocketAddr = listener.local_addr()?;
    let gateway_options = GatewayOptions {
        node_id,
        websocket_base: gateway::config::websocket_base(options.public_url.as_deref(), address),
        allowed_origins: options.allowed_origins.clone(),
        public_base: gateway::config::public_base(options.public_url.as_deref(), address),
        mailer: gateway::mail::Mailer::new(
            options.smtp_url.as_deref(),
            &options.mail_from,
            data_dir.join("mail"),
        )?,
        bot: gateway::bot::BotChoice::from_url(options.bot.as_deref())?,
        connections: options.connections.clone(),
    };
    let services = Services::in_process(&local);
    tracing::info!(
        listen = %format!("http://{address}"),
        websocket = %gateway_options.websocket_base,
        data = %storage,
        presence_and_events = relay,
        "chat-backend is serving"
    );
    let served = gateway::serve(listener, services, bus, gateway_options, shutdown).await;
    if let Err(error) = std::fs::remove_file(&admin_file) {
        tracing::warn!(%error, file = %admin_file.display(), "cannot remove the admin file");
    }
    let _ = stop.send(true);
    let stopping = async {
        while let Some(result) = tasks.join_next().await {
            if let Ok(Err(error)) = result {
                tracing::warn!(error = %format!("{error:#}"), "a service stopped with an error");
            }
        }
    };
    if tokio::time::timeout(SERVICES_GRACE, stopping)
        .await
        .is_err()
    {
        tracing::warn!("services did not stop in time; leaving anyway");
    }
    tracing::info!("chat-backend stopped");
    served
}

fn random_node_id() -> String {
    format!("node-{}", random_hex(8))
}

/// `bytes` random bytes, hex-encoded.
pub(crate) fn random_hex(bytes: usize) -> String {
    let mut buffer = vec![0u8; bytes];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut buffer);
    hex::encode(buffer)
}

/// How the single process's auth-service signs access tokens.
pub(crate) fn token_settings(secret: Vec<u8>, options: &Options) -> TokenSettings {
    TokenSettings {
        secret,
        key_id: "local".into(),
        previous_keys: Vec::new(),
        issuer: "chat-backend".into(),
        audience: "chat-clients".into(),
        ttl: Duration::from_secs(options.access_token_ttl_secs),
    }
}

/// The longest the relay waits for presence to say where users are.
const RELAY_CALL_TIMEOUT: Duration = Duration::from_secs(5);

/// What auth- and chat-service start with in this process, whatever their storage.
struct Wiring {
    auth_listener: TcpListener,
    chat_listener: TcpListener,
    tokens: TokenSettings,
    publisher: Publisher,
    admin_token: String,
    stopped: Stopped,
}

impl Wiring {
    /// Starts auth- and chat-service on their stores: on their loopback ports (for `chat-backend
    /// admin`), in `local`, and chat-service's log relay, woken by the writes of both.
    async fn spawn<A: AuthStore, C: ChatStore>(
        self,
        tasks: &mut JoinSet<anyhow::Result<()>>,
        auth: A,
        chat: C,
        local: Local,
    ) -> Local {
        let Wiring {
            auth_listener,
            chat_listener,
            tokens,
            publisher,
            admin_token,
            stopped,
        } = self;
        let auth = AuthService::new(auth, tokens);
        let written = Arc::new(Notify::new());
        let local = local
            .add(AuthServer::new(auth.clone()))
            .await
            .add(ChatServer::new(ChatService::new(
                chat.clone(),
                written.clone(),
            )))
            .await;
        tasks.spawn({
            let (admin_token, stopped) = (admin_token.clone(), when_stopped(stopped.clone()));
            async move {
                auth_service::serve_with_admin(auth_listener, auth, Some(&admin_token), stopped)
                    .await
            }
        });
        tasks.spawn({
            let relay =
                chat_service::relay::run(chat.clone(), Some(publisher.clone()), written.clone());
            let stopped = when_stopped(stopped.clone());
            async move {
                tokio::select! {
                    () = relay => {}
                    () = stopped => {}
                }
                Ok(())
            }
        });
        tasks.spawn(async move {
            chat_service::serve_without_relay(
                chat_listener,
                chat,
                Some(publisher),
                written,
                Some(&admin_token),
                when_stopped(stopped),
            )
            .await
        });
        local
    }
}

/// Presence, for the gateway and the relay in this process (nothing else calls it), and its
/// counts for chat-service's admin calls.
async fn add_presence<S: PresenceStore>(store: S, local: Local) -> Local {
    let service = PresenceService::new(store);
    let admin = PresenceAdminServer::new(PresenceAdminService::of(&service));
    local
        .add(PresenceServer::new(service))
        .await
        .add(admin)
        .await
}
