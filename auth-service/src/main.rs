//! The auth-service binary: reads its configuration and serves until Ctrl-C or SIGTERM; or,
//! as `auth-service platform create|revoke NAME`, runs an operator's command on `DATABASE_URL`.

use std::process::ExitCode;

use auth_service::Config;
use auth_service::platform_admin::PlatformCommand;
use clap::Parser;

/// The operator's commands, on the same database the service serves.
#[derive(Debug, clap::Parser)]
#[command(name = "auth-service")]
struct Admin {
    /// Postgres URL; the service keeps its tables in the `auth` schema.
    #[arg(long, env = "DATABASE_URL")]
    database_url: String,
    #[command(subcommand)]
    command: AdminCommand,
}

#[derive(Debug, clap::Subcommand)]
enum AdminCommand {
    /// Platforms of the platform-backend API (seed 002) and their API keys.
    #[command(subcommand)]
    Platform(PlatformCommand),
}

#[tokio::main]
async fn main() -> ExitCode {
    if std::env::args().nth(1).as_deref() == Some("platform") {
        return admin(Admin::parse()).await;
    }
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

async fn admin(admin: Admin) -> ExitCode {
    let AdminCommand::Platform(command) = admin.command;
    let result = async {
        let store = auth_service::PgAuthStore::connect(&admin.database_url, 1).await?;
        auth_service::platform_admin::run_platform_command(&store, command).await
    };
    match result.await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
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
