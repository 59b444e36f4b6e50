//! The open-loop traffic engine behind `fanout` and `send`: G groups of M members, every member
//! sending at a fixed rate on a schedule that never waits for replies, and reading everything
//! it is sent. Latency is receive time minus *scheduled* send time, so a stalled server shows
//! up in the figures instead of slowing the senders down.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::Message;

use reqwest::Url;

use super::setup::{self, GroupSpec};
use crate::cli::Protocol;
use crate::clock::Clock;
use crate::env::Env;
use crate::latency::Latency;
use crate::payload::{self, Event, Stamp};
use crate::socket::Ws;
use crate::socketio;
use crate::xmpp;

pub struct Plan {
    pub groups: usize,
    pub members: usize,
    pub rate_per_member: f64,
    pub duration: Duration,
    pub size: usize,
    pub drain: Duration,
}

impl Plan {
    /// Messages each member sends.
    pub fn per_member(&self) -> u32 {
        ((self.rate_per_member * self.duration.as_secs_f64()).floor() as u32).max(1)
    }
}

#[derive(Debug, Default)]
pub struct Outcome {
    pub connections: usize,
    pub setup: Duration,
    pub planned: u64,
    pub sent: u64,
    pub acked: u64,
    pub duplicate_acks: u64,
    pub delivered: u64,
    pub lost: u64,
    pub duplicated: u64,
    pub out_of_order: u64,
    pub delivered_unacked: u64,
    pub foreign: u64,
    pub errors: u64,
    pub closed: u64,
    pub first_error: Option<String>,
    pub ack_latency: Latency,
    pub delivery_latency: Latency,
    /// From the first scheduled send to the last acknowledgement / delivery.
    pub ack_span: Duration,
    pub delivery_span: Duration,
}

#[derive(Default)]
struct Counters {
    sent: AtomicU64,
    acked: AtomicU64,
    delivered: AtomicU64,
}

pub async fn run(env: &Env, plan: &Plan) -> anyhow::Result<Outcome> {
    let started = Instant::now();
    let total = plan.groups * plan.members;
    let (urls, group_ids) = match env.protocol {
        Protocol::Native => native_setup(env, plan).await?,
        Protocol::SocketIo => {
            // No accounts or groups to make: a room is joined by naming it.
            let rooms: Vec<String> = (0..plan.groups)
                .map(|g| format!("bench-{}-{g}", env.run_id))
                .collect();
            let urls = setup::socketio_urls(env, total, |i| rooms[i / plan.members].clone())?;
            (urls, rooms)
        }
        Protocol::Xmpp => {
            // Anonymous logins; a room is made by its first member joining it.
            let rooms: Vec<String> = (0..plan.groups)
                .map(|g| xmpp::room(&format!("bench-{}-{g}", env.run_id)))
                .collect();
            let urls = setup::xmpp_urls(env, total, |i| Some(rooms[i / plan.members].clone()))?;
            (urls, rooms)
        }
    };
    let sockets = setup::connect_all(env, &urls, env.setup_concurrency).await?;
    let mut outcome = Outcome {
        connections: total,
        setup: started.elapsed(),
        ..Outcome::default()
    };

    let per_member = plan.per_member();
    let interval_ns = (1e9 / plan.rate_per_member) as u64;
    let start_ns = env.clock.now_ns() + 200_000_000;
    let counters = Arc::new(Counters::default());
    let (stop, stopped) = watch::channel(false);
    let send_limit = plan.duration + plan.drain + Duration::from_secs(5);
    let mut readers = Vec::with_capacity(total);
    let mut writers = Vec::with_capacity(total);
    for (i, ws) in sockets.into_iter().enumerate() {
        let (sink, stream) = ws.split();
        let group = i / plan.members;
        let reader = Reader::new(
            env.protocol,
            i as u32,
            (group * plan.members) as u32,
            plan.members,
            per_member,
        );
        readers.push(tokio::spawn(reader.run(
            stream,
            env.clock,
            stopped.clone(),
            counters.clone(),
        )));
        let schedule = Schedule {
            protocol: env.protocol,
            sender: i as u32,
            group_id: group_ids[group].clone(),
            count: per_member,
            first_ns: start_ns + interval_ns * i as u64 / total as u64,
            interval_ns,
            size: plan.size,
        };
        let counters = counters.clone();
        let clock = env.clock;
        writers.push(tokio::spawn(async move {
            tokio::time::timeout(send_limit, schedule.write(sink, clock, &counters)).await
        }));
    }
    outcome.planned = per_member as u64 * total as u64;
    for writer in writers {
        match writer.await {
            Ok(Ok(Ok(()))) => {}
            Ok(Ok(Err(error))) => outcome.note_error(format!("send failed: {error:#}")),
            Ok(Err(_)) => outcome.note_error("sending took longer than its limit".into()),
            Err(error) => outcome.note_error(format!("sender task failed: {error}")),
        }
    }
    outcome.sent = counters.sent.load(Ordering::Relaxed);
    let deadline = tokio::time::Instant::now() + plan.drain;
    let acked = || counters.acked.load(Ordering::Relaxed);
    let delivered = || counters.delivered.load(Ordering::Relaxed);
    settle(deadline, || acked() >= outcome.sent, acked).await;
    let expected = acked() * (plan.members as u64 - 1);
    settle(
        deadline,
        || delivered() >= expected,
        || acked() + delivered(),
    )
    .await;
    let _ = stop.send(true);

    let mut finished = Vec::with_capacity(total);
    for reader in readers {
        finished.push(reader.await?);
    }
    outcome.account(&finished, plan, start_ns);
    Ok(outcome)
}

/// Registers the members, opens their sessions and creates their groups: each member's
/// `messaging_url`, and the groups' ids.
async fn native_setup(env: &Env, plan: &Plan) -> anyhow::Result<(Vec<Url>, Vec<String>)> {
    let total = plan.groups * plan.members;
    let accounts = setup::accounts(env, "t", total).await?;
    let wanted = accounts
        .iter()
        .enumerate()
        .map(|(i, a)| (a, env.gateway_for(i), 0))
        .collect();
    let urls = setup::sessions(env, wanted).await?;
    let specs = (0..plan.groups)
        .map(|g| {
            let first = g * plan.members;
            GroupSpec {
                owner: &accounts[first],
                gateway: env.gateway_for(first),
                members: accounts[first + 1..first + plan.members]
                    .iter()
                    .map(|a| a.user_id.clone())
                    .collect(),
            }
        })
        .collect();
    let group_ids = setup::groups(env, specs).await?;
    Ok((urls, group_ids))
}

/// How long the drain waits without any progress before it gives up.
const QUIET: Duration = Duration::from_secs(5);

/// Waits until `done`, the deadline, or `progress` standing still for [`QUIET`]: an overloaded
/// server still working through its backlog is waited for, a stalled one is not.
async fn settle(
    deadline: tokio::time::Instant,
    done: impl Fn() -> bool,
    progress: impl Fn() -> u64,
) {
    let mut last = progress();
    let mut moved = tokio::time::Instant::now();
    while !done() && tokio::time::Instant::now() < deadline && moved.elapsed() < QUIET {
        tokio::time::sleep(Duration::from_millis(10)).await;
        let now = progress();
        if now != last {
            last = now;
            moved = tokio::time::Instant::now();
        }
    }
}

impl Outcome {
    fn note_error(&mut self, error: String) {
        self.errors += 1;
        self.first_error.get_or_insert(error);
    }

    /// Adds up what every reader saw, and finds what was acknowledged but never delivered.
    fn account(&mut self, readers: &[Reader], plan: &Plan, start_ns: u64) {
        let per_member = plan.per_member() as usize;
        let mut last_ack = start_ns;
        let mut last_delivery = start_ns;
        for reader in readers {
            self.acked += reader.acked.iter().filter(|a| **a).count() as u64;
            self.duplicate_acks += reader.duplicate_acks;
            self.duplicated += reader.duplicated;
            self.out_of_order += reader.out_of_order;
            self.foreign += reader.foreign;
            self.errors += reader.errors;
            self.closed += u64::from(reader.closed.is_some());
            if self.first_error.is_none() {
                self.first_error = reader.first_error.clone().or_else(|| {
                    reader
                        .closed
                        .as_ref()
                        .map(|c| format!("closed by the server: {c}"))
                });
            }
            self.ack_latency.merge(&reader.ack_latency);
            self.delivery_latency.merge(&reader.delivery_latency);
            last_ack = last_ack.max(reader.last_ack_ns);
            last_delivery = last_delivery.max(reader.last_delivery_ns);
            let first = reader.group_first as usize;
            for (slot, seen) in reader.seen.chunks(per_member).enumerate() {
                let sender = first + slot;
                if sender == reader.me as usize {
                    continue;
                }
                for (acked, seen) in readers[sender].acked.iter().zip(seen) {
                    match (acked, seen) {
                        (true, false) => self.lost += 1,
                        (false, true) => self.delivered_unacked += 1,
                        _ => {}
                    }
                    self.delivered += u64::from(*seen);
                }
            }
        }
        self.ack_span = Duration::from_nanos(last_ack - start_ns);
        self.delivery_span = Duration::from_nanos(last_delivery - start_ns);
    }
}

/// When one member sends what.
struct Schedule {
    protocol: Protocol,
    sender: u32,
    group_id: String,
    count: u32,
    first_ns: u64,
    interval_ns: u64,
    size: usize,
}

impl Schedule {
    async fn write(
        self,
        mut sink: SplitSink<Ws, Message>,
        clock: Clock,
        counters: &Counters,
    ) -> anyhow::Result<()> {
        for seq in 0..self.count {
            let sent_ns = self.first_ns + seq as u64 * self.interval_ns;
            tokio::time::sleep_until(clock.at(sent_ns)).await;
            let stamp = Stamp {
                sender: self.sender,
                seq,
                sent_ns,
            };
            let frame = match self.protocol {
                Protocol::Native => stamp.request(&self.group_id, self.size),
                Protocol::SocketIo => socketio::send(&stamp.request(&self.group_id, self.size)),
                Protocol::Xmpp => xmpp::groupchat(&self.group_id, &stamp, self.size),
            };
            sink.send(Message::text(frame)).await?;
            counters.sent.fetch_add(1, Ordering::Relaxed);
        }
        Ok(())
    }
}

/// One member's view: its acknowledgements, and the messages of the other members.
struct Reader {
    protocol: Protocol,
    me: u32,
    /// The member's nick in its room (XMPP only: the room reflects its messages under it).
    nick: String,
    group_first: u32,
    members: usize,
    per_member: u32,
    acked: Vec<bool>,
    /// `seen[(sender - group_first) * per_member + seq]`
    seen: Vec<bool>,
    highest: Vec<Option<u32>>,
    duplicate_acks: u64,
    duplicated: u64,
    out_of_order: u64,
    foreign: u64,
    errors: u64,
    closed: Option<String>,
    first_error: Option<String>,
    ack_latency: Latency,
    delivery_latency: Latency,
    last_ack_ns: u64,
    last_delivery_ns: u64,
}

impl Reader {
    fn new(protocol: Protocol, me: u32, group_first: u32, members: usize, per_member: u32) -> Self {
        Self {
            protocol,
            me,
            nick: match protocol {
                Protocol::Xmpp => xmpp::nick(me),
                _ => String::new(),
            },
            group_first,
            members,
            per_member,
            acked: vec![false; per_member as usize],
            seen: vec![false; members * per_member as usize],
            highest: vec![None; members],
            duplicate_acks: 0,
            duplicated: 0,
            out_of_order: 0,
            foreign: 0,
            errors: 0,
            closed: None,
            first_error: None,
            ack_latency: Latency::new(),
            delivery_latency: Latency::new(),
            last_ack_ns: 0,
            last_delivery_ns: 0,
        }
    }

    async fn run(
        mut self,
        mut stream: SplitStream<Ws>,
        clock: Clock,
        mut stop: watch::Receiver<bool>,
        counters: Arc<Counters>,
    ) -> Self {
        loop {
            tokio::select! {
                _ = stop.changed() => break,
                frame = stream.next() => match frame {
                    Some(Ok(Message::Text(text))) => self.on_text(&text, clock.now_ns(), &counters),
                    Some(Ok(Message::Close(frame))) => {
                        self.closed = Some(format!("{frame:?}"));
                        break;
                    }
                    Some(Ok(_)) => {}
                    Some(Err(error)) => {
                        self.closed = Some(error.to_string());
                        break;
                    }
                    None => {
                        self.closed = Some("socket ended".into());
                        break;
                    }
                },
            }
        }
        self
    }

    fn error(&mut self, error: String) {
        self.errors += 1;
        self.first_error.get_or_insert(error);
    }

    fn on_text(&mut self, text: &str, now_ns: u64, counters: &Counters) {
        let text = match self.protocol {
            Protocol::Native => text,
            Protocol::SocketIo => match socketio::event(text) {
                Some(event) => event,
                // Heartbeats and namespace packets carry no event.
                None => return,
            },
            Protocol::Xmpp => {
                return match xmpp::receive(text, &self.nick) {
                    xmpp::Received::Ack(stamp) => self.on_ack(stamp, now_ns, counters),
                    xmpp::Received::Delivery(stamp) => self.on_message(stamp, now_ns, counters),
                    xmpp::Received::Foreign => self.foreign += 1,
                    xmpp::Received::Error(error) => self.error(error),
                    xmpp::Received::Nothing => {}
                };
            }
        };
        let event: Event = match serde_json::from_str(text) {
            Ok(event) => event,
            Err(error) => return self.error(format!("unreadable event {text:?}: {error}")),
        };
        match event.kind {
            payload::MESSAGE_SENT => match event.ack_stamp() {
                Some(stamp) => self.on_ack(stamp, now_ns, counters),
                None => self.foreign += 1,
            },
            payload::MESSAGE => match event.message_stamp() {
                Some(stamp) => self.on_message(stamp, now_ns, counters),
                None => self.foreign += 1,
            },
            payload::ERROR => self.error(event.error_text()),
            _ => {}
        }
    }

    fn on_ack(&mut self, stamp: Stamp, now_ns: u64, counters: &Counters) {
        if stamp.sender != self.me || stamp.seq >= self.per_member {
            self.foreign += 1;
            return;
        }
        let slot = &mut self.acked[stamp.seq as usize];
        if *slot {
            self.duplicate_acks += 1;
        } else {
            *slot = true;
            self.ack_latency.record_between(stamp.sent_ns, now_ns);
            self.last_ack_ns = now_ns;
            counters.acked.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn on_message(&mut self, stamp: Stamp, now_ns: u64, counters: &Counters) {
        let Some(slot) = stamp.sender.checked_sub(self.group_first) else {
            self.foreign += 1;
            return;
        };
        let slot = slot as usize;
        if slot >= self.members || stamp.sender == self.me || stamp.seq >= self.per_member {
            self.foreign += 1;
            return;
        }
        let index = slot * self.per_member as usize + stamp.seq as usize;
        if self.seen[index] {
            self.duplicated += 1;
            return;
        }
        self.seen[index] = true;
        let highest = &mut self.highest[slot];
        if highest.is_some_and(|h| stamp.seq < h) {
            self.out_of_order += 1;
        }
        *highest = Some(highest.map_or(stamp.seq, |h| h.max(stamp.seq)));
        self.delivery_latency.record_between(stamp.sent_ns, now_ns);
        self.last_delivery_ns = now_ns;
        counters.delivered.fetch_add(1, Ordering::Relaxed);
    }
}
