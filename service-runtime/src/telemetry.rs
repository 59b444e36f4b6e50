//! Logging set-up: human-readable lines by default, JSON lines when asked.

use tracing_subscriber::EnvFilter;

/// Installs the global tracing subscriber. `RUST_LOG` picks the levels (default `info`).
pub fn init(json: bool) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    // A second call (tests starting several services) keeps the first subscriber.
    let _ = if json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}
