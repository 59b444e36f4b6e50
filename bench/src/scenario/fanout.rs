//! `fanout`: G groups of M members, every member sending at a steady rate; messages accepted
//! and delivered per second, send-to-receive latency, and every delivery accounted for.

use std::time::Duration;

use serde_json::json;

use super::bounded;
use super::traffic::{self, Outcome, Plan};
use crate::env::Env;
use crate::report::Report;

#[derive(Debug, Clone, clap::Args)]
pub struct FanoutArgs {
    /// Number of groups.
    #[arg(long, default_value_t = 50)]
    pub groups: usize,
    /// Members per group; each one sends and receives.
    #[arg(long, default_value_t = 10)]
    pub members: usize,
    /// Messages per second each member sends.
    #[arg(long, default_value_t = 10.0)]
    pub rate: f64,
    /// Seconds of sending.
    #[arg(long, default_value_t = 10.0)]
    pub duration: f64,
    /// Bytes of message text.
    #[arg(long, default_value_t = 64)]
    pub size: usize,
    /// Most seconds to wait after the last send for acknowledgements and deliveries (the wait
    /// ends sooner once everything has arrived, or after 5 s without progress).
    #[arg(long, default_value_t = 60.0)]
    pub drain: f64,
}

pub async fn run(env: &Env, args: &FanoutArgs) -> anyhow::Result<Report> {
    let plan = Plan {
        groups: bounded("groups", args.groups, 1..=20_000)?,
        members: bounded("members", args.members, 2..=1_000)?,
        rate_per_member: bounded("rate", args.rate, 0.01..=10_000.0)?,
        duration: Duration::from_secs_f64(bounded("duration", args.duration, 0.1..=3_600.0)?),
        size: bounded("size", args.size, 32..=60_000)?,
        drain: Duration::from_secs_f64(bounded("drain", args.drain, 0.1..=300.0)?),
    };
    bounded("groups × members", plan.groups * plan.members, 2..=100_000)?;
    let outcome = traffic::run(env, &plan).await?;
    let mut report = Report::new("fanout", env.targets(), json!(args_json(args)));
    let offered = (plan.groups * plan.members) as f64 * plan.rate_per_member;
    report.figure("connections", outcome.connections as f64, "");
    report.figure("setup", outcome.setup.as_secs_f64(), "s");
    report.figure("offered", offered, "msg/s");
    report.figure("sent", outcome.sent as f64, "msg");
    report.figure("acknowledged", outcome.acked as f64, "msg");
    report.figure(
        "accepted",
        per_second(outcome.acked, outcome.ack_span, plan.duration),
        "msg/s",
    );
    report.figure("delivered", outcome.delivered as f64, "deliveries");
    report.figure(
        "deliveries",
        per_second(outcome.delivered, outcome.delivery_span, plan.duration),
        "deliveries/s",
    );
    report.latency("send → receive", outcome.delivery_latency.summary());
    report.latency("send → ack (21)", outcome.ack_latency.summary());
    common_checks(&mut report, &outcome);
    report.check("lost", outcome.lost, 0);
    report.check("duplicated", outcome.duplicated, 0);
    report.check("out of order", outcome.out_of_order, 0);
    Ok(report)
}

/// Checks both traffic scenarios make: every send acknowledged once, no errors, no closes.
pub fn common_checks(report: &mut Report, outcome: &Outcome) {
    report.check("sent", outcome.sent, outcome.planned);
    report.check(
        "unacknowledged",
        outcome.sent.saturating_sub(outcome.acked),
        0,
    );
    report.check("duplicate acks", outcome.duplicate_acks, 0);
    report.check("errors", outcome.errors, 0);
    report.check("closed by server", outcome.closed, 0);
    report.check("foreign events", outcome.foreign, 0);
    if outcome.delivered_unacked > 0 {
        report.note(format!(
            "{} deliveries of messages whose acknowledgement did not arrive in time",
            outcome.delivered_unacked
        ));
    }
    if let Some(error) = &outcome.first_error {
        report.note(format!("first error: {error}"));
    }
}

/// Events per second over the planned window, or over the time they actually took if longer.
pub fn per_second(count: u64, span: Duration, planned: Duration) -> f64 {
    let seconds = span.max(planned).as_secs_f64();
    if seconds > 0.0 {
        count as f64 / seconds
    } else {
        0.0
    }
}

fn args_json(args: &FanoutArgs) -> serde_json::Value {
    json!({
        "groups": args.groups,
        "members": args.members,
        "rate_per_member": args.rate,
        "duration_s": args.duration,
        "size": args.size,
        "drain_s": args.drain,
    })
}
