//! The command line: global options (targets, output, limits) and one subcommand per scenario.

use clap::{Parser, Subcommand};

use crate::scenario::{fanout, idle, reconnect, send};

#[derive(Debug, Clone, Parser)]
#[command(
    name = "chat-bench",
    about = "Load tool for the chat backend's native protocol, against loopback gateways only"
)]
pub struct Cli {
    /// Base URL of a gateway, e.g. http://127.0.0.1:3000 (repeat for several replicas;
    /// clients are spread over them in turn). Loopback addresses only.
    #[arg(long = "gateway", global = true)]
    pub gateways: Vec<String>,
    /// Start the single-process server (SQLite, in-memory presence and events) inside this
    /// process on a temporary data directory, and drive it.
    #[arg(long, global = true)]
    pub embedded: bool,
    /// What the targets speak: the chat backend's native protocol, the Socket.IO peer of
    /// bench/peers/socketio (nothing stored), or XMPP over WebSocket to the Prosody peer of
    /// bench/peers/prosody (rooms archived). The peers run fanout, send and idle, with no setup
    /// through REST.
    #[arg(long, value_enum, default_value = "native", global = true)]
    pub protocol: Protocol,
    /// Print the report as JSON instead of text.
    #[arg(long, global = true)]
    pub json: bool,
    /// Also write the report as JSON to this file.
    #[arg(long, global = true)]
    pub json_out: Option<std::path::PathBuf>,
    /// Client sockets bound to an IPv4 gateway are spread over this many source addresses,
    /// 127.0.0.2 upwards (0: let the kernel choose).
    #[arg(long, default_value_t = 8, global = true)]
    pub source_addrs: u8,
    /// REST requests in flight at once while registering users, sessions and groups.
    #[arg(long, default_value_t = 32, global = true)]
    pub setup_concurrency: usize,
    /// The whole run, setup included, stops after this many seconds whatever happens.
    #[arg(long, default_value_t = 900, global = true)]
    pub max_run_secs: u64,
    #[command(subcommand)]
    pub scenario: Scenario,
}

/// The protocol the targets speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Protocol {
    /// The chat backend's native protocol (seed 000).
    Native,
    /// The Socket.IO peer server (bench/peers/socketio).
    #[value(name = "socketio")]
    SocketIo,
    /// XMPP over WebSocket: the Prosody peer (bench/peers/prosody), a MUC room per group.
    Xmpp,
}

#[derive(Debug, Clone, Subcommand)]
pub enum Scenario {
    /// Hold N authenticated idle connections; report gateway memory per connection and the
    /// connect rate.
    Idle(idle::IdleArgs),
    /// G groups of M members, each member sending at a steady rate; report throughput,
    /// send-to-receive latency, and lost, duplicated and out-of-order deliveries.
    Fanout(fanout::FanoutArgs),
    /// Many concurrent senders; report acknowledged (persisted) sends per second and the
    /// latency of acknowledgements.
    Send(send::SendArgs),
    /// Clients drop, messages are sent while they are away, and they all reconnect at once
    /// and catch up; report the time until all have caught up, and anything missing.
    Reconnect(reconnect::ReconnectArgs),
}
