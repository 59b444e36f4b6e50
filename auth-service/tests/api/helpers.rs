//! Starting the auth service for a test on either store, and the calls most tests make first.

use std::path::PathBuf;
use std::time::Duration;

use auth_service::{
    AuthService, AuthStore, LoginLimit, PgAuthStore, SqliteAuthStore, TokenSettings, error_code,
};
use chat_proto::auth::auth_client::AuthClient;
use chat_proto::auth::{LoginRequest, RegisterRequest, User};
use service_runtime::postgres::{create_test_database, test_admin_url};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic::transport::Channel;

pub const SECRET: &[u8] = b"test-secret-of-at-least-32-bytes-long";
pub const ISSUER: &str = "chat-backend";
pub const AUDIENCE: &str = "chat-clients";
pub const KEY_ID: &str = "k1";

/// The store a test's service runs on.
#[derive(Debug, Clone, Copy)]
pub enum Backend {
    Postgres,
    Sqlite,
}

/// One `#[tokio::test]` per case and backend: `postgres::<case>` and `sqlite::<case>`, each
/// calling `super::<case>(backend)`.
macro_rules! backend_tests {
    ($($case:ident),* $(,)?) => {
        mod postgres {
            $(
                #[tokio::test]
                async fn $case() {
                    super::$case(crate::helpers::Backend::Postgres).await;
                }
            )*
        }

        mod sqlite {
            $(
                #[tokio::test]
                async fn $case() {
                    super::$case(crate::helpers::Backend::Sqlite).await;
                }
            )*
        }
    };
}

pub(crate) use backend_tests;

/// A running auth service and a client connected to it.
pub struct TestAuth {
    pub client: AuthClient<Channel>,
    pub channel: Channel,
    shutdown: Option<oneshot::Sender<()>>,
    server: JoinHandle<anyhow::Result<()>>,
    _data: Option<DataDir>,
}

/// The directory of a SQLite test database, removed with the test's service.
struct DataDir(PathBuf);

impl Drop for DataDir {
    fn drop(&mut self) {
        // Best effort: a directory left behind in the temp dir harms no later test.
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl TestAuth {
    /// Fires the shutdown future and waits for the server to return.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        tokio::time::timeout(Duration::from_secs(10), self.server).await??
    }
}

pub fn token_settings() -> TokenSettings {
    TokenSettings {
        secret: SECRET.to_vec(),
        key_id: KEY_ID.to_owned(),
        previous_keys: Vec::new(),
        issuer: ISSUER.to_owned(),
        audience: AUDIENCE.to_owned(),
        ttl: Duration::from_secs(3600),
    }
}

pub async fn spawn_auth(backend: Backend) -> TestAuth {
    spawn_auth_with(backend, LoginLimit::default()).await
}

/// Serves the auth service on 127.0.0.1:0 over a new database: a Postgres database, or a SQLite
/// file in a directory of its own. Panics when Postgres is unreachable: a test that cannot
/// reach its database fails, it does not skip.
pub async fn spawn_auth_with(backend: Backend, limit: LoginLimit) -> TestAuth {
    spawn_auth_configured(backend, limit, None).await
}

/// As [`spawn_auth_with`], with confirmation links that work for `registration_ttl`.
pub async fn spawn_auth_configured(
    backend: Backend,
    limit: LoginLimit,
    registration_ttl: Option<Duration>,
) -> TestAuth {
    match backend {
        Backend::Postgres => {
            let url = create_test_database(&test_admin_url())
                .await
                .expect("cannot create a test database");
            let store = PgAuthStore::connect(&url, 4)
                .await
                .expect("cannot open the Postgres auth store");
            serve(store, limit, registration_ttl, None).await
        }
        Backend::Sqlite => {
            let name = format!("auth-api-test-{}", uuid::Uuid::new_v4().simple());
            let dir = DataDir(std::env::temp_dir().join(name));
            let store = SqliteAuthStore::open(&dir.0.join("auth.db"))
                .await
                .expect("cannot open the SQLite auth store");
            serve(store, limit, registration_ttl, Some(dir)).await
        }
    }
}

async fn serve<S: AuthStore>(
    store: S,
    limit: LoginLimit,
    registration_ttl: Option<Duration>,
    data: Option<DataDir>,
) -> TestAuth {
    let mut service = AuthService::new(store, token_settings()).with_login_limit(limit);
    if let Some(ttl) = registration_ttl {
        service = service.with_registration_ttl(ttl);
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("cannot bind a port");
    let address = listener
        .local_addr()
        .expect("a bound listener has an address");
    let (shutdown, fired) = oneshot::channel::<()>();
    let server = tokio::spawn(auth_service::serve(listener, service, async {
        let _ = fired.await;
    }));
    let channel = Channel::from_shared(format!("http://{address}"))
        .expect("a valid URI")
        .connect()
        .await
        .expect("cannot connect to the auth service");
    TestAuth {
        client: AuthClient::new(channel.clone()),
        channel,
        shutdown: Some(shutdown),
        server,
        _data: data,
    }
}

pub fn registration(username: &str, email: &str) -> RegisterRequest {
    RegisterRequest {
        username: username.to_owned(),
        email: email.to_owned(),
        password: "0000".to_owned(),
        first_name: "Test".to_owned(),
        last_name: "User".to_owned(),
        display_name: username.to_owned(),
        service_account: false,
    }
}

/// Registers `username` with the password "0000".
pub async fn register(client: &mut AuthClient<Channel>, username: &str, email: &str) -> User {
    client
        .register(registration(username, email))
        .await
        .expect("registration succeeds")
        .into_inner()
}

/// Logs in with the password "0000" and returns the access token.
pub async fn login(client: &mut AuthClient<Channel>, username: &str) -> String {
    client
        .login(LoginRequest {
            username: username.to_owned(),
            email: String::new(),
            password: "0000".to_owned(),
            session: None,
        })
        .await
        .expect("login succeeds")
        .into_inner()
        .access_token
}

/// Asserts the gRPC code and the `x-error-code` of a failed call.
#[track_caller]
pub fn assert_error<T: std::fmt::Debug>(
    result: Result<T, tonic::Status>,
    code: tonic::Code,
    error: &str,
) {
    let status = result.expect_err("the call must fail");
    assert_eq!(status.code(), code, "{status:?}");
    assert_eq!(error_code(&status), Some(error), "{status:?}");
}
