//! Generated gRPC clients, servers and messages shared by every service of the chat backend.
//!
//! Modules follow the protobuf packages (`auth.v1`, ...) so that cross-package references resolve;
//! each top-level module re-exports its current version.

pub mod errors;

pub mod auth {
    pub mod v1 {
        tonic::include_proto!("auth.v1");
    }
    pub use v1::*;
}

pub mod chat {
    pub mod v1 {
        tonic::include_proto!("chat.v1");
    }
    pub use v1::*;
}

pub mod presence {
    pub mod v1 {
        tonic::include_proto!("presence.v1");
    }
    pub use v1::*;
}

pub mod events {
    pub mod v1 {
        tonic::include_proto!("events.v1");
    }
    pub use v1::*;
}

pub mod admin {
    pub mod v1 {
        tonic::include_proto!("admin.v1");
    }
    pub use v1::*;
}

pub mod bot {
    pub mod v1 {
        tonic::include_proto!("bot.v1");
    }
    pub use v1::*;
}
