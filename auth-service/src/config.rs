//! Command-line flags of the auth service; every flag is also an environment variable.

use std::ffi::OsStr;
use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use clap::builder::{BoolishValueParser, TypedValueParser};
use clap::error::ErrorKind;

use crate::token::{TokenSettings, VerificationKey};

/// How the auth service is configured.
#[derive(Debug, Clone, clap::Parser)]
#[command(name = "auth-service", version, about)]
pub struct Config {
    /// Address the gRPC server listens on.
    #[arg(long, env = "LISTEN_ADDR", default_value = "0.0.0.0:50051")]
    pub listen: SocketAddr,

    /// Postgres URL; the service keeps its tables in the `auth` schema.
    #[arg(long, env = "DATABASE_URL")]
    pub database_url: String,

    /// Size of the Postgres connection pool.
    #[arg(long, env = "DATABASE_MAX_CONNECTIONS", default_value_t = 10)]
    pub database_max_connections: u32,

    /// HMAC secret signing access tokens: at least 32 bytes.
    #[arg(
        long,
        env = "JWT_SECRET",
        hide_env_values = true,
        value_parser = SecretParser { name: "JWT_SECRET", parse: JwtSecret::new }
    )]
    pub jwt_secret: JwtSecret,

    /// `kid` header of issued tokens, so keys can be rotated.
    #[arg(long, env = "JWT_KEY_ID", default_value = "k1")]
    pub jwt_key_id: String,

    /// Keys rotated out that still verify the tokens they signed (until those expire): comma-
    /// separated `kid=secret` pairs, each secret at least 32 bytes; empty for none. Only
    /// `JWT_SECRET` signs.
    #[arg(
        long,
        env = "JWT_PREVIOUS_KEYS",
        hide_env_values = true,
        default_value = "",
        value_parser = SecretParser { name: "JWT_PREVIOUS_KEYS", parse: PreviousKeys::parse }
    )]
    pub jwt_previous_keys: PreviousKeys,

    /// `iss` claim of issued tokens, required on verification.
    #[arg(long, env = "JWT_ISSUER", default_value = "chat-backend")]
    pub jwt_issuer: String,

    /// `aud` claim of issued tokens, required on verification.
    #[arg(long, env = "JWT_AUDIENCE", default_value = "chat-clients")]
    pub jwt_audience: String,

    /// Lifetime of access tokens in seconds.
    #[arg(long, env = "ACCESS_TOKEN_TTL_SECS", default_value_t = 3600)]
    pub access_token_ttl_secs: u64,

    /// The operator's secret: `admin.v1.AuthAdmin` answers only calls bearing it
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
    /// Log line format.
    #[arg(long, env = "LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    /// Bring the `auth` schema up to date, then exit without serving: run once per rollout
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

impl Config {
    /// The token settings these flags describe.
    pub fn token_settings(&self) -> TokenSettings {
        TokenSettings {
            secret: self.jwt_secret.as_bytes().to_vec(),
            key_id: self.jwt_key_id.clone(),
            previous_keys: self
                .jwt_previous_keys
                .0
                .iter()
                .map(|key| VerificationKey {
                    key_id: key.key_id.clone(),
                    secret: key.secret.as_bytes().to_vec(),
                })
                .collect(),
            issuer: self.jwt_issuer.clone(),
            audience: self.jwt_audience.clone(),
            ttl: Duration::from_secs(self.access_token_ttl_secs),
        }
    }
}

/// Log line format: human-readable text or JSON lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

impl LogFormat {
    pub fn is_json(self) -> bool {
        self == LogFormat::Json
    }
}

/// The JWT signing secret: checked for length when parsed, never printed.
#[derive(Clone)]
pub struct JwtSecret(String);

/// HS256 wants a key at least as long as its 256-bit output.
pub const MIN_SECRET_BYTES: usize = 32;

impl JwtSecret {
    /// The secret, or why it is refused.
    pub fn new(secret: &str) -> Result<Self, String> {
        if secret.len() < MIN_SECRET_BYTES {
            return Err(format!(
                "JWT_SECRET (--jwt-secret) is {} bytes long; it must be at least \
                 {MIN_SECRET_BYTES} bytes (256 bits)",
                secret.len()
            ));
        }
        Ok(JwtSecret(secret.to_owned()))
    }

    pub fn as_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

/// Parses a secret-bearing option (`--jwt-secret`, `--jwt-previous-keys`) with `parse`, with
/// errors that, unlike clap's default, never echo the value.
#[derive(Clone)]
struct SecretParser<T> {
    /// The option's environment variable, for the error messages.
    name: &'static str,
    parse: fn(&str) -> Result<T, String>,
}

impl<T: Clone + Send + Sync + 'static> TypedValueParser for SecretParser<T> {
    type Value = T;

    fn parse_ref(
        &self,
        command: &clap::Command,
        _arg: Option<&clap::Arg>,
        value: &OsStr,
    ) -> Result<T, clap::Error> {
        let refuse = |kind, message: String| {
            clap::Error::raw(kind, format!("{message}\n")).with_cmd(command)
        };
        let text = value.to_str().ok_or_else(|| {
            refuse(
                ErrorKind::InvalidUtf8,
                format!("{} must be UTF-8", self.name),
            )
        })?;
        (self.parse)(text).map_err(|message| refuse(ErrorKind::ValueValidation, message))
    }
}

/// The keys of `JWT_PREVIOUS_KEYS`.
#[derive(Clone, Debug, Default)]
pub struct PreviousKeys(pub Vec<PreviousKey>);

impl PreviousKeys {
    /// Comma-separated `kid=secret` pairs; empty ones are skipped.
    pub fn parse(list: &str) -> Result<Self, String> {
        list.split(',')
            .filter(|pair| !pair.trim().is_empty())
            .map(PreviousKey::parse)
            .collect::<Result<_, _>>()
            .map(PreviousKeys)
    }
}

/// A key of `JWT_PREVIOUS_KEYS`: a `kid` and its secret.
#[derive(Clone)]
pub struct PreviousKey {
    pub key_id: String,
    pub secret: JwtSecret,
}

impl PreviousKey {
    /// `kid=secret`, or why it is refused (without the secret).
    pub fn parse(pair: &str) -> Result<Self, String> {
        let (key_id, secret) = pair
            .trim()
            .split_once('=')
            .filter(|(key_id, _)| !key_id.is_empty())
            .ok_or("JWT_PREVIOUS_KEYS takes comma-separated kid=secret pairs")?;
        let secret = JwtSecret::new(secret).map_err(|_| {
            format!("the secret of previous key {key_id} is shorter than {MIN_SECRET_BYTES} bytes")
        })?;
        Ok(PreviousKey {
            key_id: key_id.to_owned(),
            secret,
        })
    }
}

impl fmt::Debug for PreviousKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PreviousKey({}, ***)", self.key_id)
    }
}

impl fmt::Debug for JwtSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("JwtSecret(***)")
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::{Config, LogFormat};

    const URL: &str = "postgres://localhost/chat";

    fn parse(secret: &str) -> Result<Config, clap::Error> {
        Config::try_parse_from([
            "auth-service",
            "--database-url",
            URL,
            "--jwt-secret",
            secret,
        ])
    }

    #[test]
    fn a_short_secret_is_refused_with_its_length() {
        let error = parse("too-short").expect_err("a 9-byte secret must be refused");
        let message = error.to_string();
        assert!(message.contains("9 bytes"), "{message}");
        assert!(message.contains("at least 32 bytes"), "{message}");
        assert!(
            !message.contains("too-short"),
            "the secret is echoed: {message}"
        );
    }

    #[test]
    fn a_secret_of_32_bytes_is_accepted_and_defaults_apply() {
        let config = parse(&"s".repeat(32)).expect("a 32-byte secret is enough");
        assert_eq!(config.listen.to_string(), "0.0.0.0:50051");
        assert_eq!(config.database_max_connections, 10);
        assert_eq!(config.log_format, LogFormat::Text);
        let tokens = config.token_settings();
        assert_eq!(tokens.key_id, "k1");
        assert_eq!(tokens.issuer, "chat-backend");
        assert_eq!(tokens.audience, "chat-clients");
        assert_eq!(tokens.ttl.as_secs(), 3600);
    }

    #[test]
    fn migrate_only_and_skip_migrations_are_exclusive() {
        let secret = "s".repeat(32);
        let base = [
            "auth-service",
            "--database-url",
            URL,
            "--jwt-secret",
            &secret,
        ];
        let defaults = Config::try_parse_from(base).expect("no migration flag");
        assert!(!defaults.migrate_only && !defaults.skip_migrations);
        let migrate = Config::try_parse_from(base.iter().chain(&["--migrate-only"]))
            .expect("--migrate-only alone");
        assert!(migrate.migrate_only);
        let both =
            Config::try_parse_from(base.iter().chain(&["--migrate-only", "--skip-migrations"]));
        assert!(both.is_err(), "both at once must be refused");
    }

    #[test]
    fn previous_keys_verify_without_being_printed() {
        let (secret, old, older) = ("s".repeat(32), "o".repeat(32), "p".repeat(40));
        let keys = format!("k0={old},k-1={older}");
        let config = Config::try_parse_from([
            "auth-service",
            "--database-url",
            URL,
            "--jwt-secret",
            &secret,
            "--jwt-previous-keys",
            &keys,
        ])
        .expect("two previous keys");
        let tokens = config.token_settings();
        let previous: Vec<_> = tokens
            .previous_keys
            .iter()
            .map(|key| (key.key_id.as_str(), key.secret.clone()))
            .collect();
        assert_eq!(
            previous,
            [
                ("k0", old.clone().into_bytes()),
                ("k-1", older.into_bytes())
            ]
        );
        assert!(!format!("{config:?}").contains(&old));
        assert!(parse(&secret).expect("none").jwt_previous_keys.0.is_empty());
        let empty = Config::try_parse_from([
            "auth-service",
            "--database-url",
            URL,
            "--jwt-secret",
            &secret,
            "--jwt-previous-keys",
            "",
        ]);
        assert!(empty.expect("an empty list").jwt_previous_keys.0.is_empty());

        for (bad, secret_part) in [
            ("k0", "k0"),
            ("=a-secret-of-more-than-thirty-two-bytes", "a-secret"),
            ("k0=tiny", "tiny"),
        ] {
            let refused = Config::try_parse_from([
                "auth-service",
                "--database-url",
                URL,
                "--jwt-secret",
                &secret,
                "--jwt-previous-keys",
                bad,
            ]);
            let message = refused.expect_err(bad).to_string();
            assert!(!message.contains(secret_part), "{message}");
        }
    }

    #[test]
    fn the_secret_is_not_printed() {
        let secret = "x".repeat(40);
        let config = parse(&secret).expect("a 40-byte secret is enough");
        assert!(!format!("{config:?}").contains(&secret));
    }
}
