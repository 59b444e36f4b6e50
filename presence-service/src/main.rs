//! presence-service binary: reads its configuration, then serves until Ctrl-C or SIGTERM.

use clap::Parser;
use presence_service::Config;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = Config::parse();
    service_runtime::telemetry::init(config.log_format.is_json());
    let listener = service_runtime::listener::bind(config.listen)?;
    tracing::info!(addr = %listener.local_addr()?, "presence-service listening");
    presence_service::run(config, listener, service_runtime::shutdown::signal()).await
}
