//! Options of the single-process server: every flag is also an environment variable.

use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Debug, Clone, clap::Parser)]
#[command(
    name = "chat-backend",
    about = "The whole chat backend in one process: SQLite and in-memory presence by default, \
             Postgres and Redis when their URLs are given"
)]
pub struct Options {
    /// Address the public HTTP and WebSocket API listens on.
    #[arg(long = "listen", env = "LISTEN_ADDR", default_value = "127.0.0.1:3000")]
    pub listen: SocketAddr,
    /// Where the SQLite files (and the generated JWT secret) live.
    #[arg(long, env = "DATA_DIR", default_value = "./data", global = true)]
    pub data_dir: PathBuf,
    /// Base URL clients reach the server at; `messaging_url` is built from it. Defaults to the
    /// listen address.
    #[arg(long, env = "PUBLIC_URL")]
    pub public_url: Option<String>,
    /// SMTP server of the web app's confirmation mail: `smtp://host:port`,
    /// `smtps://user:pass@host`. Without it each mail is an `.eml` file in `<data-dir>/mail/`
    /// and its link is logged.
    #[arg(long, env = "SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,
    /// Sender of the confirmation mail.
    #[arg(long, env = "MAIL_FROM", default_value = gateway::mail::DEFAULT_FROM)]
    pub mail_from: String,
    /// The bot that answers the web app's bot chat: the gRPC URL of an external `BotService`
    /// (proto/proto/bot.proto), e.g. `http://127.0.0.1:50060`. Unset: the built-in bot.
    #[arg(long = "bot", env = "BOT_URL")]
    pub bot: Option<String>,
    #[command(flatten)]
    pub connections: gateway::connections::ConnectionLimits,
    /// Postgres URL: keep users, conversations and messages in Postgres instead of SQLite.
    #[arg(long, env = "DATABASE_URL", global = true)]
    pub database_url: Option<String>,
    /// Redis URL: keep presence and relay events through Redis instead of memory.
    #[arg(long, env = "REDIS_URL")]
    pub redis_url: Option<String>,
    /// Prefix of every Redis key and channel.
    #[arg(long, env = "REDIS_KEY_PREFIX", default_value = "chat:")]
    pub redis_key_prefix: String,
    /// HMAC secret for access tokens (at least 32 bytes). Without it, one is generated and kept
    /// in the data directory so that tokens survive restarts.
    #[arg(long, env = "JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,
    /// Lifetime of access tokens, in seconds.
    #[arg(long, env = "ACCESS_TOKEN_TTL_SECS", default_value_t = 3600)]
    pub access_token_ttl_secs: u64,
    /// Origins allowed to open WebSockets from a browser, comma-separated; empty allows any.
    #[arg(
        long,
        env = "ALLOWED_ORIGINS",
        value_delimiter = ',',
        default_value = ""
    )]
    pub allowed_origins: Vec<String>,
    /// `text` or `json` log lines.
    #[arg(long, env = "LOG_FORMAT", default_value = "text")]
    pub log_format: String,
    /// An operator's command instead of serving.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// What `chat-backend` does instead of serving, on the same storage it serves from.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum Command {
    /// Platforms of the platform-backend API (seed 002) and their API keys.
    #[command(subcommand)]
    Platform(auth_service::platform_admin::PlatformCommand),
    /// The operator's commands on users, sessions and conversations, through the admin RPCs of
    /// the running server (found in `--data-dir`) or of a services deployment (`--auth-url`,
    /// `--chat-url`, `--admin-token`). See docs/operations.md.
    Admin(crate::admin::AdminArgs),
}
