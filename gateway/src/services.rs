//! gRPC clients of the three services. Channels connect lazily and reconnect on their own, so a
//! gateway starts before its services and survives their restarts. Every call carries the
//! current request id.

use std::time::Duration;

use chat_proto::auth::auth_client::AuthClient;
use chat_proto::chat::chat_client::ChatClient;
use chat_proto::presence::presence_client::PresenceClient;
use service_runtime::grpc::Channel;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Endpoint;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_client::HealthClient;

use crate::request_id::Propagate;

pub type Auth = AuthClient<InterceptedService<Channel, Propagate>>;
pub type Chat = ChatClient<InterceptedService<Channel, Propagate>>;
pub type Presence = PresenceClient<InterceptedService<Channel, Propagate>>;

#[derive(Clone)]
pub struct Services {
    pub auth: Auth,
    pub chat: Chat,
    pub presence: Presence,
    health: [(&'static str, HealthClient<Channel>); 3],
}

impl Services {
    pub fn connect_lazy(auth: &str, chat: &str, presence: &str) -> anyhow::Result<Self> {
        Ok(Self::over(
            channel(auth)?,
            channel(chat)?,
            channel(presence)?,
        ))
    }

    /// The three services in this process (the single process): the same clients, calling
    /// the handlers without a connection.
    pub fn in_process(services: &service_runtime::grpc::Local) -> Self {
        let channel = service_runtime::grpc::in_process(services, CALL_TIMEOUT);
        Self::over(channel.clone(), channel.clone(), channel)
    }

    fn over(auth: Channel, chat: Channel, presence: Channel) -> Self {
        Self {
            health: [
                ("auth.v1.Auth", HealthClient::new(auth.clone())),
                ("chat.v1.Chat", HealthClient::new(chat.clone())),
                ("presence.v1.Presence", HealthClient::new(presence.clone())),
            ],
            auth: AuthClient::with_interceptor(auth, Propagate),
            chat: ChatClient::with_interceptor(chat, Propagate),
            presence: PresenceClient::with_interceptor(presence, Propagate),
        }
    }

    /// The services that do not answer SERVING to a health check within `timeout`.
    pub async fn not_serving(&self, timeout: Duration) -> Vec<&'static str> {
        let checks = self.health.iter().map(|(name, client)| async move {
            let request = HealthCheckRequest {
                service: (*name).to_owned(),
            };
            let serving = tokio::time::timeout(timeout, client.clone().check(request))
                .await
                .ok()
                .and_then(Result::ok)
                .is_some_and(|r| r.into_inner().status == 1);
            (!serving).then_some(*name)
        });
        futures_util::future::join_all(checks)
            .await
            .into_iter()
            .flatten()
            .collect()
    }
}

/// Runs a read, and runs it once more after a short pause when it failed on the way rather
/// than in the service: a channel that was just reset (its connection went away with the calls
/// on it) reconnects for the next call. Only for reads, which are safe to repeat.
pub async fn read_twice<T, F, Fut>(mut read: F) -> Result<T, tonic::Status>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, tonic::Status>>,
{
    match read().await {
        Err(status) if on_the_way(&status) => {
            tracing::debug!(code = ?status.code(), message = status.message(), "reading again");
            tokio::time::sleep(Duration::from_millis(50)).await;
            read().await
        }
        answer => answer,
    }
}

/// Whether a call failed in transport (no service answered it), not in the service. A call
/// that timed out (`Cancelled`) is not tried again: the service may be overloaded.
fn on_the_way(status: &tonic::Status) -> bool {
    use tonic::Code;
    let answered = chat_proto::errors::ErrorCode::of(status).is_some();
    !answered
        && matches!(
            status.code(),
            Code::Unavailable | Code::Unknown | Code::ResourceExhausted
        )
}

/// The longest a call to a service may take.
const CALL_TIMEOUT: Duration = Duration::from_secs(30);

fn channel(url: &str) -> anyhow::Result<Channel> {
    let endpoint = Endpoint::from_shared(url.to_owned())
        .map_err(|error| anyhow::anyhow!("invalid service URL {url:?}: {error}"))?
        .connect_timeout(Duration::from_secs(5))
        .timeout(CALL_TIMEOUT);
    let endpoint = service_runtime::grpc::endpoint(endpoint);
    Ok(service_runtime::grpc::remote(endpoint.connect_lazy()))
}
