//! `cargo run`: the whole chat backend in one process. See `chat-backend --help`.

use clap::Parser;

/// jemalloc gives the memory of closed connections back to the system (see Cargo.toml).
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut options = chat_backend::Options::parse();
    if let Some(command) = options.command.take() {
        return chat_backend::command(&options, command).await;
    }
    service_runtime::telemetry::init(options.log_format == "json");
    let listener = service_runtime::listener::bind(options.listen)?;
    chat_backend::run(options, listener, service_runtime::shutdown::signal()).await
}
