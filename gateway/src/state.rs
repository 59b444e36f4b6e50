//! The state every handler shares: service clients, this replica's connections, fan-out.

use std::ops::Deref;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::fanout::Fanout;
use crate::hub::Hub;
use crate::services::Services;

/// What a gateway replica needs to know about itself.
#[derive(Debug, Clone)]
pub struct GatewayOptions {
    /// This replica's name on the event bus and in presence.
    pub node_id: String,
    /// Base of the WebSocket URLs handed to clients, e.g. `ws://127.0.0.1:3000`.
    pub websocket_base: String,
    /// Origins allowed to open WebSockets from a browser; empty allows any.
    pub allowed_origins: Vec<String>,
    /// Base of the links handed out by mail, e.g. `http://127.0.0.1:3000`.
    pub public_base: String,
    /// Where the web app's confirmation mail goes.
    pub mailer: crate::mail::Mailer,
    /// Which bot answers the web app's bot chat.
    pub bot: crate::bot::BotChoice,
    /// Timeouts and the per-address cap connections are served under.
    pub connections: crate::connections::ConnectionLimits,
}

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub services: Services,
    pub hub: Arc<Hub>,
    pub fanout: Fanout,
    pub options: GatewayOptions,
    /// The bot's service account, once found (see [`crate::bot::account`]).
    pub bot_account: tokio::sync::OnceCell<chat_proto::auth::User>,
    /// Sockets being opened at once (see [`crate::websocket::OPENING_AT_ONCE`]).
    pub openings: tokio::sync::Semaphore,
    draining: AtomicBool,
}

impl AppState {
    pub fn new(services: Services, fanout: Fanout, options: GatewayOptions) -> Self {
        Self(Arc::new(Inner {
            hub: fanout.hub.clone(),
            services,
            fanout,
            options,
            bot_account: tokio::sync::OnceCell::new(),
            openings: tokio::sync::Semaphore::new(crate::websocket::OPENING_AT_ONCE),
            draining: AtomicBool::new(false),
        }))
    }

    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::Relaxed)
    }

    pub fn start_draining(&self) {
        self.draining.store(true, Ordering::Relaxed);
    }
}

impl Deref for AppState {
    type Target = Inner;

    fn deref(&self) -> &Inner {
        &self.0
    }
}
