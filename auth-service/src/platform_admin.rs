//! The operator's commands for platforms (seed 002): `platform create NAME` stores a platform
//! and prints its API key once (only its hash is kept); `platform revoke NAME` makes the key
//! useless. Served by the `auth-service` binary and by `chat-backend` on their own stores.

use uuid::Uuid;

use crate::model::Platform;
use crate::service::{random_token, token_hash};
use crate::store::{AuthStore, StoreError};
use crate::validate;

#[derive(Debug, Clone, clap::Subcommand)]
pub enum PlatformCommand {
    /// Creates a platform and prints its API key, once.
    Create {
        /// The platform's name: [a-zA-Z0-9.-]; its users are named `<userID>@<NAME>`.
        name: String,
    },
    /// Revokes the platform's API key: its backend is refused from then on.
    Revoke { name: String },
}

/// A new platform and its API key, which exists only in this answer.
pub async fn create_platform<S: AuthStore>(
    store: &S,
    name: &str,
) -> anyhow::Result<(Platform, String)> {
    validate::platform_id("platform name", name).map_err(|error| anyhow::anyhow!("{error}"))?;
    let key = format!("pk_{}", random_token());
    match store
        .insert_platform(Uuid::new_v4(), name, &token_hash(&key))
        .await
    {
        Ok(platform) => Ok((platform, key)),
        Err(StoreError::PlatformNameTaken) => {
            anyhow::bail!("a platform named {name:?} exists already")
        }
        Err(error) => Err(anyhow::Error::new(error).context("cannot store the platform")),
    }
}

/// Runs `command` on `store`, printing what the operator needs to stdout.
pub async fn run_platform_command<S: AuthStore>(
    store: &S,
    command: PlatformCommand,
) -> anyhow::Result<()> {
    match command {
        PlatformCommand::Create { name } => {
            let (platform, key) = create_platform(store, &name).await?;
            println!("platform {} created, id {}", platform.name, platform.id);
            println!("API key (shown only now; send it as Authorization: Bearer <key>):");
            println!("{key}");
        }
        PlatformCommand::Revoke { name } => {
            if !store.revoke_platform(&name).await? {
                anyhow::bail!("no platform named {name:?} with a live key");
            }
            println!("platform {name} revoked");
        }
    }
    Ok(())
}
