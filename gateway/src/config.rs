//! Configuration of the gateway binary: every flag is also an environment variable.

use std::net::SocketAddr;

#[derive(Debug, Clone, clap::Parser)]
#[command(
    name = "gateway",
    about = "Public REST and WebSocket API of the chat backend"
)]
pub struct Config {
    /// Address the HTTP and WebSocket server listens on.
    #[arg(long = "listen", env = "LISTEN_ADDR", default_value = "0.0.0.0:3000")]
    pub listen: SocketAddr,
    /// gRPC address of auth-service.
    #[arg(long, env = "AUTH_URL", default_value = "http://127.0.0.1:50051")]
    pub auth_url: String,
    /// gRPC address of chat-service.
    #[arg(long, env = "CHAT_URL", default_value = "http://127.0.0.1:50052")]
    pub chat_url: String,
    /// gRPC address of presence-service.
    #[arg(long, env = "PRESENCE_URL", default_value = "http://127.0.0.1:50053")]
    pub presence_url: String,
    /// Redis URL for the pub/sub that relays events between gateway replicas.
    #[arg(long, env = "REDIS_URL")]
    pub redis_url: String,
    /// Prefix of every Redis channel this deployment uses.
    #[arg(long, env = "REDIS_KEY_PREFIX", default_value = "chat:")]
    pub redis_key_prefix: String,
    /// Base URL clients reach this gateway at (`messaging_url` is built from it); defaults to
    /// the listen address.
    #[arg(long, env = "PUBLIC_URL")]
    pub public_url: Option<String>,
    /// This replica's name on the event bus; defaults to `HOSTNAME`, else a random id.
    #[arg(long, env = "NODE_ID")]
    pub node_id: Option<String>,
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
    /// SMTP server of the web app's confirmation mail: `smtp://host:port`,
    /// `smtps://user:pass@host`. Without it each mail is an `.eml` file in `--mail-dir`.
    #[arg(long, env = "SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,
    /// Sender of the confirmation mail.
    #[arg(long, env = "MAIL_FROM", default_value = crate::mail::DEFAULT_FROM)]
    pub mail_from: String,
    /// Where mail is written as `.eml` files when no SMTP server is configured.
    #[arg(long, env = "MAIL_DIR", default_value = "./mail")]
    pub mail_dir: std::path::PathBuf,
    /// The bot that answers the web app's bot chat: the gRPC URL of an external `BotService`
    /// (proto/proto/bot.proto), e.g. `http://127.0.0.1:50060`. Unset: the built-in bot.
    #[arg(long = "bot", env = "BOT_URL")]
    pub bot: Option<String>,
    #[command(flatten)]
    pub connections: crate::connections::ConnectionLimits,
}

impl Config {
    pub fn node_id(&self) -> String {
        self.node_id
            .clone()
            .or_else(|| std::env::var("HOSTNAME").ok().filter(|h| !h.is_empty()))
            .unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string())
    }

    /// The base of WebSocket URLs handed to clients: `ws://` for `http://`, `wss://` for
    /// `https://`, without a trailing slash.
    pub fn websocket_base(&self) -> String {
        websocket_base(self.public_url.as_deref(), self.listen)
    }

    /// Where outgoing mail goes: `--smtp-url`, else files in `--mail-dir`.
    pub fn mailer(&self) -> anyhow::Result<crate::mail::Mailer> {
        crate::mail::Mailer::new(
            self.smtp_url.as_deref(),
            &self.mail_from,
            self.mail_dir.clone(),
        )
    }
}

/// The base URL clients reach the server at, without a trailing slash: the public URL, else
/// `http://` and the listen address (127.0.0.1 for an unspecified one).
pub fn public_base(public_url: Option<&str>, listen: SocketAddr) -> String {
    match public_url {
        Some(url) if !url.is_empty() => url.trim_end_matches('/').to_owned(),
        _ => {
            let host = if listen.ip().is_unspecified() {
                "127.0.0.1".to_owned()
            } else {
                listen.ip().to_string()
            };
            format!("http://{host}:{}", listen.port())
        }
    }
}

pub fn websocket_base(public_url: Option<&str>, listen: SocketAddr) -> String {
    let base = public_base(public_url, listen);
    if let Some(rest) = base.strip_prefix("https://") {
        format!("wss://{rest}")
    } else if let Some(rest) = base.strip_prefix("http://") {
        format!("ws://{rest}")
    } else {
        base
    }
}

#[cfg(test)]
mod tests {
    use super::websocket_base;

    #[test]
    fn messaging_urls_follow_the_public_url() {
        let listen = "0.0.0.0:3000".parse().unwrap();
        assert_eq!(websocket_base(None, listen), "ws://127.0.0.1:3000");
        assert_eq!(
            websocket_base(Some("https://chat.example.com/"), listen),
            "wss://chat.example.com"
        );
        assert_eq!(
            websocket_base(Some("ws://10.0.0.1:80"), listen),
            "ws://10.0.0.1:80"
        );
    }
}
