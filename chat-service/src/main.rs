//! The chat-service binary: parse configuration, listen, serve until Ctrl-C or SIGTERM.

use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = chat_service::Config::parse();
    service_runtime::telemetry::init(config.log_format == "json");
    if config.migrate_only {
        return chat_service::migrate(&config).await;
    }
    let listener = service_runtime::listener::bind(config.listen)?;
    tracing::info!(address = %listener.local_addr()?, "chat-service listening");
    chat_service::run(config, listener, service_runtime::shutdown::signal()).await
}
