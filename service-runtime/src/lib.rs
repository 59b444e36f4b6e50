//! What every binary of the chat backend shares: shutdown signals, logging and Postgres setup.

pub mod grpc;
pub mod listener;
pub mod metrics;
pub mod observe;
pub mod postgres;
pub mod shutdown;
pub mod telemetry;
