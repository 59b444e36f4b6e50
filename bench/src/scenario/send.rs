//! `send`: many concurrent senders, each in a group of its own by default, so the figure is
//! persisted sends acknowledged (event 21) per second, and the latency of those acknowledgements.

use std::time::Duration;

use serde_json::json;

use super::bounded;
use super::fanout::{common_checks, per_second};
use super::traffic::{self, Plan};
use crate::env::Env;
use crate::report::Report;

#[derive(Debug, Clone, clap::Args)]
pub struct SendArgs {
    /// Concurrent senders, each on its own WebSocket.
    #[arg(long, default_value_t = 100)]
    pub senders: usize,
    /// Senders per group (1: every sender alone in its group, so nothing is fanned out).
    #[arg(long, default_value_t = 1)]
    pub per_group: usize,
    /// Messages per second offered by all senders together.
    #[arg(long, default_value_t = 1_000.0)]
    pub rate: f64,
    /// Seconds of sending.
    #[arg(long, default_value_t = 10.0)]
    pub duration: f64,
    /// Bytes of message text.
    #[arg(long, default_value_t = 64)]
    pub size: usize,
    /// Most seconds to wait after the last send for acknowledgements (the wait ends sooner
    /// once everything has arrived, or after 5 s without progress).
    #[arg(long, default_value_t = 60.0)]
    pub drain: f64,
}

pub async fn run(env: &Env, args: &SendArgs) -> anyhow::Result<Report> {
    let senders = bounded("senders", args.senders, 1..=50_000)?;
    let per_group = bounded("per-group", args.per_group, 1..=senders)?;
    let groups = senders / per_group;
    let senders = groups * per_group;
    let rate = bounded("rate", args.rate, 0.01..=500_000.0)?;
    let plan = Plan {
        groups,
        members: per_group,
        rate_per_member: rate / senders as f64,
        duration: Duration::from_secs_f64(bounded("duration", args.duration, 0.1..=3_600.0)?),
        size: bounded("size", args.size, 32..=60_000)?,
        drain: Duration::from_secs_f64(bounded("drain", args.drain, 0.1..=300.0)?),
    };
    let outcome = traffic::run(env, &plan).await?;
    let parameters = json!({
        "senders": senders,
        "per_group": per_group,
        "rate": rate,
        "duration_s": args.duration,
        "size": args.size,
        "drain_s": args.drain,
    });
    let mut report = Report::new("send", env.targets(), parameters);
    report.figure("senders", senders as f64, "");
    report.figure("setup", outcome.setup.as_secs_f64(), "s");
    report.figure("offered", rate, "msg/s");
    report.figure("sent", outcome.sent as f64, "msg");
    report.figure("acknowledged", outcome.acked as f64, "msg");
    report.figure(
        "acknowledged rate",
        per_second(outcome.acked, outcome.ack_span, plan.duration),
        "msg/s",
    );
    report.latency("send → ack (21)", outcome.ack_latency.summary());
    common_checks(&mut report, &outcome);
    if per_group > 1 {
        report.figure("delivered", outcome.delivered as f64, "deliveries");
        report.latency("send → receive", outcome.delivery_latency.summary());
        report.check("lost", outcome.lost, 0);
        report.check("duplicated", outcome.duplicated, 0);
        report.check("out of order", outcome.out_of_order, 0);
    }
    Ok(report)
}
