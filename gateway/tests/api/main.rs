//! End-to-end tests of the gateway: three real services, real Postgres and Redis, and gateway
//! replicas on random ports, driven over HTTP and WebSockets as a client would.

/// Runs each named test once on Postgres and Redis, and once on SQLite and in-memory presence
/// and events: the same suite for every backend.
macro_rules! backend_tests {
    ($($case:ident),* $(,)?) => {
        mod postgres_redis {
            $(
                #[tokio::test]
                async fn $case() {
                    super::$case(crate::helpers::Backend::PostgresRedis).await
                }
            )*
        }
        mod sqlite_memory {
            $(
                #[tokio::test]
                async fn $case() {
                    super::$case(crate::helpers::Backend::SqliteMemory).await
                }
            )*
        }
    };
}

mod access;
mod bus;
mod catch_up;
mod decoders;
mod echat;
mod echat_client;
mod echat_native;
mod echat_sessions;
/// The example external bot (`cargo run -p gateway --example bot`), served by the tests of
/// the bot chat.
#[path = "../../examples/bot.rs"]
#[allow(dead_code)]
mod example_bot;
mod helpers;
mod login_names;
mod messenger;
mod messenger_client;
mod messenger_errors;
mod messenger_native;
mod messenger_paging;
mod messenger_users;
mod observability;
mod openapi;
mod openapi_contract;
mod platform;
mod platform_messages;
mod routing;
mod sending;
mod session_tokens;
mod sessions;
mod socket_errors;
mod walkthrough;
mod web_client;
mod webapp;
mod webapp_bot;
mod webapp_client;
mod webapp_groups;
mod webapp_native;
mod webapp_notifications;
mod webapp_register;
mod webapp_rooms;
mod webapp_steps;
