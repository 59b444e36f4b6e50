//! gRPC clients of the three services. Channels connect lazily and reconnect on their own, so a
//! gateway starts before its services and survives their restarts. Every call carries the
//! current request id.

use std::time::Duration;

use chat_proto::auth::auth_client::AuthClient;
use chat_proto::chat::chat_client::ChatClient;
use chat_proto::presence::presence_client::PresenceClient;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Channel, Endpoint};
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
        let (auth, chat, presence) = (channel(auth)?, channel(chat)?, channel(presence)?);
        Ok(Self {
            health: [
                ("auth.v1.Auth", HealthClient::new(auth.clone())),
                ("chat.v1.Chat", HealthClient::new(chat.clone())),
                ("presence.v1.Presence", HealthClient::new(presence.clone())),
            ],
            auth: AuthClient::with_interceptor(auth, Propagate),
            chat: ChatClient::with_interceptor(chat, Propagate),
            presence: PresenceClient::with_interceptor(presence, Propagate),
        })
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

fn channel(url: &str) -> anyhow::Result<Channel> {
    let endpoint = Endpoint::from_shared(url.to_owned())
        .map_err(|error| anyhow::anyhow!("invalid service URL {url:?}: {error}"))?
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(30))
        .tcp_nodelay(true);
    Ok(endpoint.connect_lazy())
}
