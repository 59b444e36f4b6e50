//! presence-service binary: reads its configuration, then serves until Ctrl-C or SIGTERM.

use anyhow::Context;
use clap::Parser;
use presence_service::Config;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = Config::parse();
    service_runtime::telemetry::init(config.log_format.is_json());
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    tracing::info!(addr = %listener.local_addr()?, "presence-service listening");
    presence_service::run(config, listener, service_runtime::shutdown::signal()).await
}
