//! Configuration of the chat-service binary: every flag is also an environment variable.

use std::net::SocketAddr;

use clap::builder::BoolishValueParser;

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
    /// Redis URL: the log relay publishes events to the gateway replicas there.
    #[arg(long, env = "REDIS_URL")]
    pub redis_url: String,
    /// Prefix of the Redis channels (the same as the gateways').
    #[arg(long, env = "REDIS_KEY_PREFIX", default_value = "chat:")]
    pub redis_key_prefix: String,
    /// presence-service's gRPC URL: the relay asks it where recipients are connected.
    #[arg(long, env = "PRESENCE_URL", default_value = "http://127.0.0.1:50053")]
    pub presence_url: String,
    /// Size of the Postgres connection pool.
    #[arg(long, env = "DATABASE_MAX_CONNECTIONS", default_value_t = 20)]
    pub database_max_connections: u32,
    /// The operator's secret: `admin.v1.ChatAdmin` answers only calls bearing it
    /// (`chat-backend admin --admin-token`), at least 16 bytes. Unset: the admin RPCs are off.
    #[arg(
        long,
        env = "ADMIN_TOKEN",
        hide_env_values = true,
        value_parser = service_runtime::grpc::AdminTokenParser
    )]
    pub admin_token: Option<service_runtime::grpc::AdminToken>,
    /// Where to serve Prometheus metrics at `/metrics`, e.g. `0.0.0.0:9090`; off when unset.
    #[arg(long = "metrics-listen", env = "METRICS_ADDR")]
    pub metrics_listen: Option<std::net::SocketAddr>,
    /// `text` or `json` log lines.
    #[arg(long, env = "LOG_FORMAT", default_value = "text")]
    pub log_format: String,
    /// Bring the `chat` schema up to date, then exit without serving: run once per rollout
    /// (a Kubernetes Job) ahead of replicas started with `--skip-migrations`.
    #[arg(
        long,
        env = "MIGRATE_ONLY",
        value_parser = BoolishValueParser::new(),
        conflicts_with = "skip_migrations"
    )]
    pub migrate_only: bool,
    /// Do not migrate at start; refuse to start unless the schema is already up to date.
    #[arg(long, env = "SKIP_MIGRATIONS", value_parser = BoolishValueParser::new())]
    pub skip_migrations: bool,
}

#[cfg(test)]
mod tests {
    use clap::{CommandFactory, Parser};

    use super::Config;

    const BASE: [&str; 7] = [
        "chat-service",
        "--database-url",
        "postgres://localhost/chat",
        "--redis-url",
        "redis://localhost",
        "--presence-url",
        "http://localhost:50053",
    ];

    #[test]
    fn flags_are_consistent() {
        Config::command().debug_assert();
    }

    #[test]
    fn migrate_only_and_skip_migrations_are_exclusive() {
        let defaults = Config::try_parse_from(BASE).expect("no migration flag");
        assert!(!defaults.migrate_only && !defaults.skip_migrations);
        let skip = Config::try_parse_from(BASE.iter().chain(&["--skip-migrations"]))
            .expect("--skip-migrations alone");
        assert!(skip.skip_migrations);
        let both =
            Config::try_parse_from(BASE.iter().chain(&["--migrate-only", "--skip-migrations"]));
        assert!(both.is_err(), "both at once must be refused");
    }
}
