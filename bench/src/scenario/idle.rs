//! `idle`: N authenticated connections held open; the gateway's resident memory per connection
//! (VmRSS of `--gateway-pid` before and after) and how fast they connect.

use std::time::{Duration, Instant};

use anyhow::bail;
use serde_json::json;

use super::{bounded, setup};
use crate::env::Env;
use crate::latency::Latency;
use crate::report::Report;
use crate::socket::{self, Ws};
use crate::system;

#[derive(Debug, Clone, clap::Args)]
pub struct IdleArgs {
    /// Connections to open and hold.
    #[arg(long, default_value_t = 1_000)]
    pub connections: usize,
    /// Sessions (and so connections) per registered user: registration hashes a password, so
    /// fewer users set up faster.
    #[arg(long, default_value_t = 50)]
    pub per_user: usize,
    /// Seconds to hold the connections once all are open.
    #[arg(long, default_value_t = 10.0)]
    pub hold: f64,
    /// Connections being opened at once.
    #[arg(long, default_value_t = 256)]
    pub connect_concurrency: usize,
    /// Process id of the gateway (or single-process server), to read its VmRSS.
    #[arg(long)]
    pub gateway_pid: Option<u32>,
}

pub async fn run(env: &Env, args: &IdleArgs) -> anyhow::Result<Report> {
    let connections = bounded("connections", args.connections, 1..=200_000)?;
    let per_user = bounded("per-user", args.per_user, 1..=10_000)?;
    let hold = Duration::from_secs_f64(bounded("hold", args.hold, 0.0..=3_600.0)?);
    let concurrency = bounded("connect-concurrency", args.connect_concurrency, 1..=4_096)?;
    if let Some(limit) = system::open_files_limit() {
        // The tool holds one descriptor per connection, plus a margin for REST and the rest.
        if connections as u64 + 256 > limit {
            bail!(
                "{connections} connections need more open files than this process may have \
                 ({limit}); raise `ulimit -n` (run.sh raises it to the hard limit)"
            );
        }
    }
    let users = connections.div_ceil(per_user);
    let accounts = setup::accounts(env, "i", users).await?;
    let wanted = (0..connections)
        .map(|i| (&accounts[i / per_user], env.gateway_for(i), i))
        .collect();
    let urls = setup::sessions(env, wanted).await?;

    let rss_before = args.gateway_pid.map(system::rss_kib).transpose()?;
    let client_before = system::own_rss_kib()?;
    let started = Instant::now();
    let attempts = setup::parallel(urls.iter().collect(), concurrency, |url| async move {
        let opened = Instant::now();
        let source = env.sources.pick(&crate::target::socket_address(url)?);
        let result = socket::open(url, source).await;
        anyhow::Ok((result, opened.elapsed()))
    })
    .await?;
    let connect_time = started.elapsed();
    let mut sockets: Vec<Ws> = Vec::with_capacity(connections);
    let mut latency = Latency::new();
    let mut failures = 0u64;
    let mut first_failure = None;
    for (result, took) in attempts {
        match result {
            Ok(ws) => {
                latency.record_duration(took);
                sockets.push(ws);
            }
            Err(error) => {
                failures += 1;
                first_failure.get_or_insert(format!("{error:#}"));
            }
        }
    }
    eprintln!(
        "chat-bench: {} sockets open in {:.1} s; holding them {:.0} s",
        sockets.len(),
        connect_time.as_secs_f64(),
        hold.as_secs_f64()
    );
    tokio::time::sleep(hold).await;
    let rss_after = args.gateway_pid.map(system::rss_kib).transpose()?;
    let client_after = system::own_rss_kib()?;
    let open = sockets.len();
    drop(sockets);

    let parameters = json!({
        "connections": connections,
        "per_user": per_user,
        "hold_s": hold.as_secs_f64(),
        "connect_concurrency": concurrency,
        "gateway_pid": args.gateway_pid,
    });
    let mut report = Report::new("idle", env.targets(), parameters);
    report.figure("connections open", open as f64, "");
    report.figure("connect time", connect_time.as_secs_f64(), "s");
    report.figure(
        "connect rate",
        open as f64 / connect_time.as_secs_f64(),
        "conn/s",
    );
    report.latency("connect + first pong", latency.summary());
    if let (Some(before), Some(after)) = (rss_before, rss_after) {
        report.figure("gateway RSS before", before as f64 / 1024.0, "MiB");
        report.figure("gateway RSS after", after as f64 / 1024.0, "MiB");
        let per_connection = after.saturating_sub(before) as f64 / open.max(1) as f64;
        report.figure("gateway memory/connection", per_connection, "KiB");
    } else {
        report.note("no --gateway-pid: gateway memory not measured");
    }
    let client = client_after.saturating_sub(client_before) as f64 / open.max(1) as f64;
    report.figure("tool memory/connection", client, "KiB");
    report.check("failed connections", failures, 0);
    if let Some(failure) = first_failure {
        report.note(format!("first failure: {failure}"));
    }
    Ok(report)
}
