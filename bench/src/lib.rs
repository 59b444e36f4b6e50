//! chat-bench: a load tool for the chat backend's native protocol (and two peers: Socket.IO,
//! and Prosody over XMPP), over real WebSockets on loopback only. Open-loop timing (sends are scheduled, never wait on replies), latencies in
//! HDR histograms, and an account of every message: lost, duplicated, out of order.

pub mod cli;
pub mod clock;
pub mod embedded;
pub mod env;
pub mod latency;
pub mod payload;
pub mod report;
pub mod rest;
pub mod scenario;
pub mod socket;
pub mod socketio;
pub mod system;
pub mod target;
pub mod xmpp;

use std::time::Duration;

use anyhow::Context;

pub use cli::{Cli, Scenario};
pub use report::Report;

/// Runs the chosen scenario against the gateways named (or an embedded server), within the
/// run's time limit.
pub async fn run(cli: Cli) -> anyhow::Result<Report> {
    let limit = Duration::from_secs(cli.max_run_secs);
    if cli.embedded && cli.protocol != cli::Protocol::Native {
        anyhow::bail!("--embedded starts the chat backend, which speaks --protocol native");
    }
    let embedded = if cli.embedded {
        Some(embedded::Embedded::start().await?)
    } else {
        None
    };
    let mut gateways = cli.gateways.clone();
    if let Some(server) = &embedded {
        gateways.push(server.url.clone());
    }
    let env = env::Env::new(
        &gateways,
        cli.source_addrs,
        cli.setup_concurrency,
        cli.protocol,
    )?;
    let outcome = tokio::time::timeout(limit, scenario::run(&env, &cli.scenario))
        .await
        .with_context(|| format!("the run passed its limit of {}s", cli.max_run_secs));
    if let Some(server) = embedded {
        server.stop().await;
    }
    outcome?
}
