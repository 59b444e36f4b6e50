//! The faults the suite injects — what each does to the deployment while clients send — the
//! clients and groups each fault runs with, and the checks particular to a fault.
#![allow(dead_code)]

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::fault_client::{ANSWER_WITHIN, Ctx};
use super::fault_cluster::{Cluster, GATEWAYS};
use super::fault_record::{Outcome, Record};

/// The slow consumer must be closed within this long of it no longer reading.
pub const SLOW_CLOSED_WITHIN: Duration = Duration::from_secs(5);

#[derive(Clone, Copy, PartialEq, Debug)]
pub enum Fault {
    KillGateway,
    KillChat,
    RestartRedis,
    StopPostgres,
    Concurrent,
    SlowConsumer,
}

/// Who is where: each group's senders and the receivers' groups.
pub struct Topology {
    pub groups: usize,
    pub senders_per_group: usize,
    pub receivers: Vec<Vec<usize>>,
    /// Messages per second over all (non-flooding) senders.
    pub rate: f64,
}

impl Fault {
    pub fn topology(self) -> Topology {
        if self == Fault::Concurrent {
            // 24 conversations, one writer each, and two readers in all of them: receiver 0
            // reconnects and catches up every 200 ms.
            let all: Vec<usize> = (0..24).collect();
            return Topology {
                groups: 24,
                senders_per_group: 1,
                receivers: vec![all.clone(), all],
                rate: 120.0,
            };
        }
        let receivers = (0..18).map(|i| vec![i / 3]).collect();
        Topology {
            groups: 6,
            senders_per_group: 2,
            receivers,
            rate: 100.0,
        }
    }
}

/// What a round's fault did, for the checks that follow it.
#[derive(Default)]
pub struct Injected {
    /// When the fault was in force.
    pub window: Option<(Instant, Instant)>,
    /// The gateway killed, to restart after the round's checks.
    pub killed_gateway: Option<usize>,
    /// How long the slow consumer took to be closed, once it stopped reading.
    pub slow_closed_after: Option<Duration>,
}

/// Injects this run's fault while the senders run; returns when it is over.
pub async fn inject(
    fault: Fault,
    cluster: &mut Cluster,
    ctx: &Ctx,
    paused: &AtomicBool,
    round: u32,
) -> Injected {
    let mut injected = Injected::default();
    let began = Instant::now();
    match fault {
        Fault::KillGateway => {
            let k = (round as usize - 1) % 2;
            tokio::task::block_in_place(|| cluster.kill(GATEWAYS[k]));
            injected.killed_gateway = Some(k);
        }
        Fault::KillChat => {
            tokio::task::block_in_place(|| cluster.kill("chat-service"));
            tokio::time::sleep(Duration::from_secs(1)).await;
            tokio::task::block_in_place(|| cluster.start_process("chat-service"));
        }
        Fault::RestartRedis => {
            tokio::task::block_in_place(|| cluster.kill("redis"));
            tokio::time::sleep(Duration::from_secs(3)).await;
            tokio::task::block_in_place(|| cluster.start_redis());
        }
        Fault::StopPostgres => {
            tokio::task::block_in_place(|| cluster.stop_postgres());
            tokio::time::sleep(Duration::from_secs(5)).await;
            tokio::task::block_in_place(|| cluster.start_postgres());
        }
        Fault::Concurrent => {}
        Fault::SlowConsumer => {
            let gateway = ctx.record().receivers[0].gateway;
            let metrics = format!("http://{}/metrics", ctx.gateways[gateway]);
            let before = slow_closed(&metrics).await;
            paused.store(true, Ordering::Relaxed);
            while began.elapsed() < SLOW_CLOSED_WITHIN + Duration::from_secs(5) {
                tokio::time::sleep(Duration::from_millis(200)).await;
                if slow_closed(&metrics).await > before {
                    injected.slow_closed_after = Some(began.elapsed());
                    break;
                }
            }
            paused.store(false, Ordering::Relaxed);
        }
    }
    injected.window = Some((began, Instant::now()));
    injected
}

/// The gateway's count of connections closed for being too slow.
async fn slow_closed(metrics: &str) -> f64 {
    let text = match reqwest::get(metrics).await {
        Ok(response) => response.text().await.unwrap_or_default(),
        Err(_) => return 0.0,
    };
    text.lines()
        .filter(|l| l.starts_with("gateway_slow_connections_closed_total"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// The checks particular to a fault.
pub fn fault_checks(fault: Fault, record: &Record, injected: &Injected) -> Vec<String> {
    let mut failures = Vec::new();
    let Some((from, to)) = injected.window else {
        return failures;
    };
    if fault == Fault::StopPostgres {
        let during = record
            .attempts
            .iter()
            .filter(|a| a.started >= from && a.started <= to);
        for hung in during.filter(|a| a.outcome == Outcome::Timeout) {
            failures.push(format!(
                "send hung: no answer within {:?} for a send at +{:.2}s of the outage",
                ANSWER_WITHIN,
                hung.started.duration_since(from).as_secs_f64()
            ));
        }
        let closed = record
            .receivers
            .iter()
            .filter(|r| r.closes.iter().any(|(at, _)| *at >= from && *at <= to))
            .count();
        if closed == record.receivers.len() {
            failures.push(format!(
                "every receiver's socket was closed during the outage: {closed}"
            ));
        }
    }
    if fault == Fault::SlowConsumer {
        match injected.slow_closed_after {
            Some(after) if after <= SLOW_CLOSED_WITHIN => {}
            other => failures.push(format!(
                "the slow consumer was not closed within {SLOW_CLOSED_WITHIN:?} of it no longer reading ({other:?}); its connection ends: {:?}",
                record.receivers[0].closes.iter().map(|(_, how)| how).collect::<Vec<_>>()
            )),
        }
    }
    failures
}
