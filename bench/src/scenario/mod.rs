//! The scenarios, and the setup and traffic engine they share.

pub mod fanout;
pub mod idle;
pub mod reconnect;
pub mod send;
pub mod setup;
pub mod traffic;

use crate::cli::Scenario;
use crate::env::Env;
use crate::report::Report;

pub async fn run(env: &Env, scenario: &Scenario) -> anyhow::Result<Report> {
    match scenario {
        Scenario::Idle(args) => idle::run(env, args).await,
        Scenario::Fanout(args) => fanout::run(env, args).await,
        Scenario::Send(args) => send::run(env, args).await,
        Scenario::Reconnect(_) if env.protocol != crate::cli::Protocol::Native => {
            anyhow::bail!("reconnect measures catch-up, which only --protocol native has")
        }
        Scenario::Reconnect(args) => reconnect::run(env, args).await,
    }
}

/// Refuses a parameter outside `range`: every run is bounded.
pub fn bounded<T: PartialOrd + std::fmt::Display + Copy>(
    name: &str,
    value: T,
    range: std::ops::RangeInclusive<T>,
) -> anyhow::Result<T> {
    if !range.contains(&value) {
        anyhow::bail!(
            "--{name} must be within {}..={}, not {value}",
            range.start(),
            range.end()
        );
    }
    Ok(value)
}
