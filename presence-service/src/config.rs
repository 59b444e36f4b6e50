//! Command-line flags of presence-service; every flag can also be set by an environment variable.

use std::net::SocketAddr;

/// How presence-service is configured at start.
#[derive(Clone, clap::Parser)]
#[command(name = "presence-service", version, about)]
pub struct Config {
    /// Address the gRPC server listens on.
    #[arg(long = "listen", env = "LISTEN_ADDR", default_value = "0.0.0.0:50053")]
    pub listen: SocketAddr,

    /// Redis holding online sessions and typing state, e.g. `redis://127.0.0.1:6379`.
    #[arg(long, env = "REDIS_URL")]
    pub redis_url: String,

    /// Prefix of every Redis key this service writes, so that several deployments (or tests)
    /// may share one Redis.
    #[arg(long, env = "REDIS_KEY_PREFIX", default_value = "chat:")]
    pub redis_key_prefix: String,

    /// Where to serve Prometheus metrics at `/metrics`, e.g. `0.0.0.0:9090`; off when unset.
    #[arg(long = "metrics-listen", env = "METRICS_ADDR")]
    pub metrics_listen: Option<std::net::SocketAddr>,
    /// Log line format.
    #[arg(long, env = "LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

/// Human-readable log lines, or one JSON object a line for log collectors.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

impl LogFormat {
    /// Whether `service_runtime::telemetry::init` should write JSON.
    pub fn is_json(self) -> bool {
        self == Self::Json
    }
}

#[cfg(test)]
mod tests {
    use clap::{CommandFactory, Parser};

    use super::{Config, LogFormat};

    #[test]
    fn flags_are_consistent() {
        Config::command().debug_assert();
    }

    #[test]
    fn flags_override_defaults() {
        let config = Config::try_parse_from([
            "presence-service",
            "--listen",
            "127.0.0.1:7000",
            "--redis-url",
            "redis://redis:6379",
            "--redis-key-prefix",
            "staging:",
            "--log-format",
            "json",
        ])
        .expect("valid flags parse");
        assert_eq!(config.listen.to_string(), "127.0.0.1:7000");
        assert_eq!(config.redis_url, "redis://redis:6379");
        assert_eq!(config.redis_key_prefix, "staging:");
        assert_eq!(config.log_format, LogFormat::Json);
    }
}
