//! `cargo run`: the whole chat backend in one process. See `chat-backend --help`.

use anyhow::Context;
use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let options = chat_backend::Options::parse();
    service_runtime::telemetry::init(options.log_format == "json");
    let listener = tokio::net::TcpListener::bind(options.listen)
        .await
        .with_context(|| format!("cannot listen on {}", options.listen))?;
    chat_backend::run(options, listener, service_runtime::shutdown::signal()).await
}
