//! The gateway binary: parse configuration, listen, serve until Ctrl-C or SIGTERM.

use clap::Parser;

/// jemalloc gives the memory of closed connections back to the system (see Cargo.toml).
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = gateway::Config::parse();
    service_runtime::telemetry::init(config.log_format == "json");
    let listener = service_runtime::listener::bind(config.listen)?;
    tracing::info!(address = %listener.local_addr()?, "gateway listening");
    gateway::run(config, listener, service_runtime::shutdown::signal()).await
}
