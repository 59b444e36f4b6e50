//! The fault suite's history, Jepsen-style: every acknowledgement, every send attempt and every
//! delivery per receiver, recorded as the clients see them, and the checks run over them.
#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write as _;
use std::time::{Duration, Instant};

/// One acknowledged message (event 21).
#[derive(Debug, Clone)]
pub struct Ack {
    pub message_id: String,
    pub group: usize,
    pub seq: i64,
    pub sender: String,
    pub at: Instant,
}

/// How one send attempt ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Acked,
    /// Event 99 with its code.
    Error(String),
    /// The socket closed, with its close code if any.
    Closed(Option<u16>),
    /// The socket could not be opened (connection refused, an HTTP error instead of 101).
    Refused,
    /// No answer within the attempt timeout.
    Timeout,
}

#[derive(Debug, Clone)]
pub struct Attempt {
    pub started: Instant,
    pub took: Duration,
    pub outcome: Outcome,
}

/// One message event (type 20) as a receiver got it.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub message_id: String,
    pub group: usize,
    pub seq: i64,
    pub position: i64,
    /// Which of the receiver's connections (1, 2, …) it came on.
    pub connection: u32,
    pub at: Instant,
}

#[derive(Debug, Default)]
pub struct ReceiverLog {
    pub name: String,
    pub groups: Vec<usize>,
    pub deliveries: Vec<Delivery>,
    pub got: HashMap<String, u32>,
    pub connections: u32,
    /// The gateway (0 or 1) of its latest connection.
    pub gateway: usize,
    /// When a connection ended and how (close code, or what else happened).
    pub closes: Vec<(Instant, String)>,
    pub errors: Vec<String>,
}

#[derive(Debug, Default)]
pub struct Record {
    /// By client message id.
    pub acks: HashMap<String, Ack>,
    /// A client message id acknowledged with two different message ids.
    pub conflicts: Vec<String>,
    pub attempts: Vec<Attempt>,
    pub receivers: Vec<ReceiverLog>,
    /// Sends never acknowledged although retried until the end.
    pub unfinished: Vec<String>,
}

impl Record {
    pub fn ack(&mut self, cmid: &str, ack: Ack) {
        match self.acks.get(cmid) {
            Some(first) if first.message_id != ack.message_id => self.conflicts.push(format!(
                "{cmid}: acknowledged as {} (seq {}) and as {} (seq {})",
                first.message_id, first.seq, ack.message_id, ack.seq
            )),
            Some(_) => {}
            None => {
                self.acks.insert(cmid.to_owned(), ack);
            }
        }
    }

    pub fn deliver(&mut self, receiver: usize, delivery: Delivery) {
        let log = &mut self.receivers[receiver];
        *log.got.entry(delivery.message_id.clone()).or_default() += 1;
        log.deliveries.push(delivery);
    }

    /// Acknowledged messages some receiver of their group has not got, as (receiver, ack).
    pub fn missing(&self) -> Vec<(usize, &Ack)> {
        let mut missing = Vec::new();
        for (index, receiver) in self.receivers.iter().enumerate() {
            for ack in self.acks.values() {
                if receiver.groups.contains(&ack.group)
                    && !receiver.got.contains_key(&ack.message_id)
                {
                    missing.push((index, ack));
                }
            }
        }
        missing
    }

    pub fn deliveries(&self) -> usize {
        self.receivers.iter().map(|r| r.deliveries.len()).sum()
    }
}

/// One message of a group's history (`GET /groups/{id}/messages`).
#[derive(Debug, Clone)]
pub struct Stored {
    pub message_id: String,
    pub user_id: String,
    pub client_message_id: String,
    pub seq: i64,
}

/// What the checks found; `failures` empty when everything holds.
#[derive(Debug, Default)]
pub struct Verdict {
    pub missing: usize,
    pub duplicates: usize,
    pub out_of_order: usize,
    /// Message events whose position was below the previous one on the same connection (a live
    /// event written ahead of the catch-up): reported, not a failure by itself.
    pub position_regressions: usize,
    /// The longest a receiver waited for a message after its sender got the acknowledgement.
    pub max_lag: Duration,
    pub stored: usize,
    pub failures: Vec<String>,
}

fn note(
    failures: &mut Vec<String>,
    shown: &mut BTreeMap<&'static str, usize>,
    kind: &'static str,
    line: String,
) {
    let count = shown.entry(kind).or_default();
    *count += 1;
    if *count <= 10 {
        failures.push(format!("{kind}: {line}"));
    } else if *count == 11 {
        failures.push(format!("{kind}: … (more not shown)"));
    }
}

/// How a receiver's last few connections ended, with times since `since`.
fn ends(log: &ReceiverLog, since: Instant) -> Vec<String> {
    let last = &log.closes[log.closes.len().saturating_sub(8)..];
    last.iter()
        .map(|(at, how)| format!("+{:.2}s {how}", at.duration_since(since).as_secs_f64()))
        .collect()
}

/// Checks the record against the groups' stored histories (indexed like the groups).
pub fn check(record: &Record, history: &[Vec<Stored>], since: Instant) -> Verdict {
    let mut verdict = Verdict::default();
    let (mut failures, mut shown) = (Vec::new(), BTreeMap::new());
    let f = &mut failures;
    let s = &mut shown;
    for (receiver, ack) in record.missing() {
        verdict.missing += 1;
        let log = &record.receivers[receiver];
        let line = format!(
            "{} never got {} (group {}, seq {}, acknowledged at +{:.2}s); it had {} connections, \
             last ends: {:?}",
            log.name,
            ack.message_id,
            ack.group,
            ack.seq,
            ack.at.duration_since(since).as_secs_f64(),
            log.connections,
            ends(log, since)
        );
        note(f, s, "missing", line);
    }
    let by_id: HashMap<&str, &Ack> = record
        .acks
        .values()
        .map(|a| (a.message_id.as_str(), a))
        .collect();
    for log in &record.receivers {
        for (id, count) in &log.got {
            if *count > 1 {
                verdict.duplicates += *count as usize - 1;
                let on: Vec<_> = log
                    .deliveries
                    .iter()
                    .filter(|d| &d.message_id == id)
                    .collect();
                let line = format!(
                    "{} got {id} {count} times: {on:?}; its connections ended: {:?}",
                    log.name,
                    ends(log, since)
                );
                note(f, s, "duplicate", line);
            }
        }
        let (mut highest, mut seen) = (HashMap::<usize, i64>::new(), HashSet::new());
        let mut last = (0, 0);
        for d in &log.deliveries {
            if d.position > 0 {
                if last.0 == d.connection && d.position <= last.1 {
                    verdict.position_regressions += 1;
                }
                last = (d.connection, d.position);
            }
            if !seen.insert(d.message_id.as_str()) {
                continue;
            }
            if let Some(ack) = by_id.get(d.message_id.as_str()) {
                verdict.max_lag = verdict.max_lag.max(d.at.saturating_duration_since(ack.at));
            }
            let top = highest.entry(d.group).or_insert(0);
            if d.seq < *top {
                verdict.out_of_order += 1;
                let line = format!(
                    "{} got group {} seq {} (position {}, connection {}) after seq {}",
                    log.name, d.group, d.seq, d.position, d.connection, top
                );
                note(f, s, "out of order", line);
            }
            *top = (*top).max(d.seq);
            if let Some(ack) = by_id.get(d.message_id.as_str())
                && (ack.seq != d.seq || ack.group != d.group)
            {
                let line = format!(
                    "{} got {} as seq {} but its ack said {}",
                    log.name, d.message_id, d.seq, ack.seq
                );
                note(f, s, "seq mismatch", line);
            }
        }
    }
    for conflict in &record.conflicts {
        note(f, s, "acknowledged twice", conflict.clone());
    }
    for cmid in &record.unfinished {
        note(f, s, "never acknowledged", cmid.clone());
    }
    for (group, stored) in history.iter().enumerate() {
        verdict.stored += stored.len();
        let acked: Vec<&Ack> = record.acks.values().filter(|a| a.group == group).collect();
        let (mut ids, mut cmids) = (HashMap::new(), HashMap::new());
        for m in stored {
            *ids.entry(m.message_id.as_str()).or_insert(0) += 1;
            *cmids
                .entry((m.user_id.as_str(), m.client_message_id.as_str()))
                .or_insert(0) += 1;
        }
        for (id, n) in ids.iter().filter(|(_, n)| **n > 1) {
            note(
                f,
                s,
                "stored twice",
                format!("group {group}: message {id} listed {n} times"),
            );
        }
        for ((user, cmid), n) in cmids.iter().filter(|(_, n)| **n > 1) {
            note(
                f,
                s,
                "stored twice",
                format!("group {group}: {user}'s {cmid} stored {n} times"),
            );
        }
        if stored.len() != acked.len() {
            let line = format!(
                "group {group}: {} stored, {} acknowledged",
                stored.len(),
                acked.len()
            );
            note(f, s, "stored != acknowledged", line);
        }
        let seqs: BTreeMap<&str, i64> = stored
            .iter()
            .map(|m| (m.message_id.as_str(), m.seq))
            .collect();
        for ack in &acked {
            match seqs.get(ack.message_id.as_str()) {
                None => note(
                    f,
                    s,
                    "acknowledged but not stored",
                    format!("group {group}: {ack:?}"),
                ),
                Some(seq) if *seq != ack.seq => {
                    let line = format!(
                        "group {group}: {} stored as seq {seq}, acked as {}",
                        ack.message_id, ack.seq
                    );
                    note(f, s, "seq mismatch", line);
                }
                Some(_) => {}
            }
        }
        let mut sorted: Vec<i64> = stored.iter().map(|m| m.seq).collect();
        sorted.sort_unstable();
        if let Some(bad) = sorted
            .iter()
            .enumerate()
            .find(|(i, seq)| **seq != *i as i64 + 1)
        {
            let line = format!(
                "group {group}: position {} of the history has seq {} (of {})",
                bad.0,
                bad.1,
                sorted.len()
            );
            note(f, s, "seq not contiguous", line);
        }
    }
    verdict.failures = failures;
    verdict
}

/// Counts of the send attempts' outcomes, e.g. `acked=812 99:service_unavailable=4 close=2`.
pub fn outcomes(attempts: &[Attempt]) -> String {
    let mut counts = BTreeMap::new();
    for attempt in attempts {
        let key = match &attempt.outcome {
            Outcome::Acked => "acked".to_owned(),
            Outcome::Error(code) => format!("99:{code}"),
            Outcome::Closed(Some(code)) => format!("close:{code}"),
            Outcome::Closed(None) => "closed".to_owned(),
            Outcome::Refused => "refused".to_owned(),
            Outcome::Timeout => "timeout".to_owned(),
        };
        *counts.entry(key).or_insert(0) += 1;
    }
    let mut out = String::new();
    for (key, n) in counts {
        let _ = write!(out, "{}{key}={n}", if out.is_empty() { "" } else { " " });
    }
    out
}
