//! Starting the auth service for a test, and the calls most tests make first.

use std::time::Duration;

use auth_service::{AuthService, LoginLimit, PgAuthStore, TokenSettings, error_code};
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

/// A running auth service and a client connected to it.
pub struct TestAuth {
    pub client: AuthClient<Channel>,
    pub channel: Channel,
    shutdown: Option<oneshot::Sender<()>>,
    server: JoinHandle<anyhow::Result<()>>,
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
        issuer: ISSUER.to_owned(),
        audience: AUDIENCE.to_owned(),
        ttl: Duration::from_secs(3600),
    }
}

pub async fn spawn_auth() -> TestAuth {
    spawn_auth_with(LoginLimit::default()).await
}

/// Serves the auth service on 127.0.0.1:0 over a new database. Panics when Postgres is
/// unreachable: a test that cannot reach its database fails, it does not skip.
pub async fn spawn_auth_with(limit: LoginLimit) -> TestAuth {
    let url = create_test_database(&test_admin_url())
        .await
        .expect("cannot create a test database");
    let store = PgAuthStore::connect(&url, 4)
        .await
        .expect("cannot open the auth store");
    let service = AuthService::new(store, token_settings()).with_login_limit(limit);
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
