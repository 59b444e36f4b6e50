//! `idle`: N authenticated connections held open; the gateway's resident memory per connection
//! (VmRSS of `--gateway-pid` before and after) and how fast they connect.

use std::time::{Duration, Instant};

use anyhow::bail;
use serde_json::json;

use super::{bounded, setup};
use crate::cli::Protocol;
use crate::env::Env;
use crate::latency::Latency;
use crate::report::Report;
use crate::socket::Ws;
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
    let urls = match env.protocol {
        Protocol::Native => {
            let users = connections.div_ceil(per_user);
            let accounts = setup::accounts(env, "i", users).await?;
            let wanted = (0..connections)
                .map(|i| (&accounts[i / per_user], env.gateway_for(i), i))
                .collect();
            setup::sessions(env, wanted).await?
        }
        // Socket.IO has no accounts: every connection joins a room of its own.
        Protocol::SocketIo => setup::socketio_urls(env, connections, |i| format!("idle-{i}"))?,
        // Anonymous logins, in no room: connected, authenticated and bound.
        Protocol::Xmpp => setup::xmpp_urls(env, connections, |_| None)?,
    };

    let rss = || args.gateway_pid.map(system::rss_kib).transpose();
    let rss_before = rss()?;
    let client_before = system::own_rss_kib()?;
    let half = connections / 2;
    let mut opened = Opened::default();
    opened.open(env, &urls[..half], concurrency).await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss_half = rss()?;
    let at_half = opened.sockets.len();
    opened.open(env, &urls[half..], concurrency).await?;
    eprintln!(
        "chat-bench: {} sockets open in {:.1} s; holding them {:.0} s",
        opened.sockets.len(),
        opened.took.as_secs_f64(),
        hold.as_secs_f64()
    );
    tokio::time::sleep(hold).await;
    let rss_after = rss()?;
    let client_after = system::own_rss_kib()?;
    let open = opened.sockets.len();
    drop(std::mem::take(&mut opened.sockets));

    let parameters = json!({
        "connections": connections,
        "per_user": per_user,
        "hold_s": hold.as_secs_f64(),
        "connect_concurrency": concurrency,
        "gateway_pid": args.gateway_pid,
    });
    let mut report = Report::new("idle", env.targets(), parameters);
    report.figure("connections open", open as f64, "");
    report.figure("connect time", opened.took.as_secs_f64(), "s");
    report.figure(
        "connect rate",
        open as f64 / opened.took.as_secs_f64(),
        "conn/s",
    );
    report.latency("connect + first pong", opened.latency.summary());
    if let (Some(before), Some(half), Some(after)) = (rss_before, rss_half, rss_after) {
        report.figure("gateway RSS before", before as f64 / 1024.0, "MiB");
        report.figure("gateway RSS at half", half as f64 / 1024.0, "MiB");
        report.figure("gateway RSS after", after as f64 / 1024.0, "MiB");
        let per_connection = after.saturating_sub(before) as f64 / open.max(1) as f64;
        report.figure("gateway memory/connection", per_connection, "KiB");
        // The second half alone: what one more connection costs, whatever the baseline did.
        let marginal = after.saturating_sub(half) as f64 / (open - at_half).max(1) as f64;
        report.figure("gateway marginal/connection", marginal, "KiB");
    } else {
        report.note("no --gateway-pid: gateway memory not measured");
    }
    let client = client_after.saturating_sub(client_before) as f64 / open.max(1) as f64;
    report.figure("tool memory/connection", client, "KiB");
    report.check("failed connections", opened.failures, 0);
    if let Some(failure) = opened.first_failure {
        report.note(format!("first failure: {failure}"));
    }
    Ok(report)
}

/// The sockets opened so far, and how opening them went.
#[derive(Default)]
struct Opened {
    sockets: Vec<Ws>,
    latency: Latency,
    took: Duration,
    failures: u64,
    first_failure: Option<String>,
}

impl Opened {
    async fn open(
        &mut self,
        env: &Env,
        urls: &[reqwest::Url],
        concurrency: usize,
    ) -> anyhow::Result<()> {
        let started = Instant::now();
        let attempts = setup::parallel(urls.iter().collect(), concurrency, |url| async move {
            let opened = Instant::now();
            let result = setup::open(env, url).await;
            anyhow::Ok((result, opened.elapsed()))
        })
        .await?;
        self.took += started.elapsed();
        for (result, took) in attempts {
            match result {
                Ok(ws) => {
                    self.latency.record_duration(took);
                    self.sockets.push(ws);
                }
                Err(error) => {
                    self.failures += 1;
                    self.first_failure.get_or_insert(format!("{error:#}"));
                }
            }
        }
        Ok(())
    }
}
