//! Configuration of the chat-service binary: every flag is also an environment variable.

use std::net::SocketAddr;

#[derive(Debug, Clone, clap::Parser)]
#[command(
    name = "chat-service",
    about = "Conversations, members, messages and receipts (gRPC)"
)]
pub struct Config {
    /// Address the gRPC server listens on.
    #[arg(long = "listen", env = "LISTEN_ADDR", default_value = "0.0.0.0:50052")]
    pub listen: SocketAddr,
    /// Postgres URL; the service keeps its tables in the `chat` schema.
    #[arg(long, env = "DATABASE_URL")]
    pub database_url: String,
    /// Size of the Postgres connection pool.
    #[arg(long, env = "DATABASE_MAX_CONNECTIONS", default_value_t = 20)]
    pub database_max_connections: u32,
    /// `text` or `json` log lines.
    #[arg(long, env = "LOG_FORMAT", default_value = "text")]
    pub log_format: String,
}
