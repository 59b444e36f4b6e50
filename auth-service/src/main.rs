//! The auth-service binary: reads its configuration and serves until Ctrl-C or SIGTERM.

use std::process::ExitCode;

use auth_service::Config;
use clap::Parser;

#[tokio::main]
async fn main() -> ExitCode {
    let config = Config::parse();
    service_runtime::telemetry::init(config.log_format.is_json());
    match start(config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(error = format!("{error:#}"), "auth service failed");
            ExitCode::FAILURE
        }
    }
}

async fn start(config: Config) -> anyhow::Result<()> {
    if config.migrate_only {
        return auth_service::migrate(&config).await;
    }
    let listener = service_runtime::listener::bind(config.listen)?;
    tracing::info!(address = %listener.local_addr()?, "auth service listening");
    auth_service::run(config, listener, service_runtime::shutdown::signal()).await
}
