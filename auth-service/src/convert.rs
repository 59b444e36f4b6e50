//! Domain types into their protobuf messages.

use chat_proto::auth as proto;

use crate::model::{Identity, Session, User, split_platform_user_key};

impl From<User> for proto::User {
    fn from(user: User) -> Self {
        let (platform_id, platform_user_id) = user
            .external_id
            .as_deref()
            .and_then(split_platform_user_key)
            .map(|(platform, id)| (platform.to_string(), id.to_owned()))
            .unwrap_or_default();
        proto::User {
            platform_id,
            platform_user_id,
            id: user.id.to_string(),
            number: user.number,
            username: user.username,
            email: user.email.unwrap_or_default(),
            first_name: user.first_name,
            last_name: user.last_name,
            display_name: user.display_name,
            created_at_ms: user.created_at.timestamp_millis(),
        }
    }
}

/// A session without its token: the token exists only in the answer that created it.
impl From<Session> for proto::Session {
    fn from(session: Session) -> Self {
        proto::Session {
            id: session.id.to_string(),
            user_id: session.user_id.to_string(),
            connection_id: session.connection_id.to_string(),
            device_id: session.device_id,
            platform: session.platform,
            model: session.model,
            build: session.build,
            name: session.name,
            created_at_ms: session.created_at.timestamp_millis(),
            ..proto::Session::default()
        }
    }
}

impl From<Identity> for proto::Identity {
    fn from(identity: Identity) -> Self {
        proto::Identity {
            user_id: identity.user_id.to_string(),
            user_number: identity.user_number,
            username: identity.username,
            first_name: identity.first_name,
            session_id: identity
                .session_id
                .map(|id| id.to_string())
                .unwrap_or_default(),
        }
    }
}
