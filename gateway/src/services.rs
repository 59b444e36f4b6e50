//! gRPC clients of the three services. Channels connect lazily and reconnect on their own, so a
//! gateway starts before its services and survives their restarts.

use chat_proto::auth::auth_client::AuthClient;
use chat_proto::chat::chat_client::ChatClient;
use chat_proto::presence::presence_client::PresenceClient;
use tonic::transport::{Channel, Endpoint};

#[derive(Clone)]
pub struct Services {
    pub auth: AuthClient<Channel>,
    pub chat: ChatClient<Channel>,
    pub presence: PresenceClient<Channel>,
}

impl Services {
    pub fn connect_lazy(auth: &str, chat: &str, presence: &str) -> anyhow::Result<Self> {
        Ok(Self {
            auth: AuthClient::new(channel(auth)?),
            chat: ChatClient::new(channel(chat)?),
            presence: PresenceClient::new(channel(presence)?),
        })
    }
}

fn channel(url: &str) -> anyhow::Result<Channel> {
    let endpoint = Endpoint::from_shared(url.to_owned())
        .map_err(|error| anyhow::anyhow!("invalid service URL {url:?}: {error}"))?
        .connect_timeout(std::time::Duration::from_secs(5))
        .timeout(std::time::Duration::from_secs(30))
        .tcp_nodelay(true);
    Ok(endpoint.connect_lazy())
}
