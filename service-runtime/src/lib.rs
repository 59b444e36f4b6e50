//! What every binary of the chat backend shares: shutdown signals, logging, Postgres setup, and
//! the event bus to gateway replicas.

pub mod bus;
pub mod grpc;
pub mod listener;
pub mod metrics;
pub mod observe;
pub mod postgres;
pub mod shutdown;
pub mod telemetry;
