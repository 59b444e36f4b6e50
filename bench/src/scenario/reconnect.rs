//! `reconnect`: clients in groups drop at once; while they are away each group's writer sends K
//! messages; then they all reconnect at once (to the next replica when there are several) and
//! catch up from the position of the last event they saw — named in the socket's URL
//! (`?position=`), or with method 20 once connected (`--by-request`). Reports the time until every
//! client has caught up, and anything missing, duplicated or out of order.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures_util::SinkExt;
use futures_util::future::join_all;
use reqwest::Url;
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;

use super::bounded;
use super::setup::{self, GroupSpec};
use crate::env::Env;
use crate::latency::Latency;
use crate::payload::{self, Event, Stamp};
use crate::report::Report;
use crate::socket::{self, Ws};

#[derive(Debug, Clone, clap::Args)]
pub struct ReconnectArgs {
    /// Number of groups; each has one writer that stays connected.
    #[arg(long, default_value_t = 100)]
    pub groups: usize,
    /// Members per group that drop and reconnect.
    #[arg(long, default_value_t = 10)]
    pub members: usize,
    /// Messages each writer sends while its members are away.
    #[arg(long, default_value_t = 20)]
    pub messages: u32,
    /// Bytes of message text.
    #[arg(long, default_value_t = 64)]
    pub size: usize,
    /// Seconds every phase (warm-up, sending, catching up) may take at most.
    #[arg(long, default_value_t = 60.0)]
    pub timeout: f64,
    /// Catch up with method 20 once connected, instead of naming the position in the socket's
    /// URL: live events pushed before the request then come ahead of the missed ones.
    #[arg(long)]
    pub by_request: bool,
}

struct Member {
    ws: Ws,
    url: Url,
    gateway: usize,
    writer: u32,
    last_seen: i64,
}

pub async fn run(env: &Env, args: &ReconnectArgs) -> anyhow::Result<Report> {
    let groups = bounded("groups", args.groups, 1..=10_000)?;
    let members = bounded("members", args.members, 1..=1_000)?;
    bounded("groups × members", groups * members, 1..=19_000)?;
    let messages = bounded("messages", args.messages, 1..=10_000)?;
    let size = bounded("size", args.size, 32..=60_000)?;
    let timeout = Duration::from_secs_f64(bounded("timeout", args.timeout, 1.0..=600.0)?);
    let stride = members + 1;
    let started = Instant::now();
    let accounts = setup::accounts(env, "r", groups * stride).await?;
    let wanted = accounts
        .iter()
        .enumerate()
        .map(|(i, a)| (a, env.gateway_for(i), 0))
        .collect();
    let urls = setup::sessions(env, wanted).await?;
    let specs = (0..groups)
        .map(|g| GroupSpec {
            owner: &accounts[g * stride],
            gateway: env.gateway_for(g * stride),
            members: accounts[g * stride + 1..(g + 1) * stride]
                .iter()
                .map(|a| a.user_id.clone())
                .collect(),
        })
        .collect();
    let group_ids = setup::groups(env, specs).await?;
    let mut sockets = setup::connect_all(env, &urls, env.setup_concurrency).await?;
    let setup_time = started.elapsed();

    // Split the sockets into writers (the first of each group) and members.
    let mut writers = Vec::with_capacity(groups);
    let mut away = Vec::with_capacity(groups * members);
    for (i, ws) in sockets.drain(..).enumerate() {
        let writer = (i - i % stride) as u32;
        if i % stride == 0 {
            writers.push(ws);
        } else {
            away.push(Member {
                ws,
                url: urls[i].clone(),
                gateway: env.gateway_for(i),
                writer,
                last_seen: 0,
            });
        }
    }

    // Warm-up: one message per group, so every member has a last-seen position.
    let warm = writers
        .iter_mut()
        .enumerate()
        .map(|(g, ws)| send_all(ws, (g * stride) as u32, &group_ids[g], 0..1, size, timeout));
    join_all(warm)
        .await
        .into_iter()
        .collect::<anyhow::Result<Vec<_>>>()?;
    let seen = away.iter_mut().map(|m| async move {
        m.last_seen = wait_for(&mut m.ws, m.writer, timeout).await?;
        let _ = m.ws.close(None).await;
        anyhow::Ok(())
    });
    join_all(seen)
        .await
        .into_iter()
        .collect::<anyhow::Result<Vec<_>>>()?;

    // Away: every writer sends its K messages and has them all acknowledged.
    let sending = Instant::now();
    let send = writers.iter_mut().enumerate().map(|(g, ws)| {
        send_all(
            ws,
            (g * stride) as u32,
            &group_ids[g],
            1..messages + 1,
            size,
            timeout,
        )
    });
    join_all(send)
        .await
        .into_iter()
        .collect::<anyhow::Result<Vec<_>>>()?;
    let send_time = sending.elapsed();

    // Back: everyone at once.
    let back = Instant::now();
    let tasks = away.into_iter().map(|member| {
        let target = env.gateway_for(member.gateway + 1);
        let url = reroute(&member.url, &env.gateways[target]);
        let source = url
            .as_ref()
            .ok()
            .and_then(|u| crate::target::socket_address(u).ok())
            .and_then(|a| env.sources.pick(&a));
        let (writer, last_seen) = (member.writer, member.last_seen);
        let by_request = args.by_request;
        drop(member.ws);
        tokio::spawn(async move {
            let from = Resume {
                after: last_seen,
                by_request,
            };
            catch_up(url?, source, writer, from, messages, back, timeout).await
        })
    });
    let results = join_all(tasks.collect::<Vec<_>>()).await;
    let all_back = back.elapsed();
    drop(writers);

    let mut total = CatchUp::default();
    let mut times = Latency::new();
    let mut behind = 0u64;
    for result in results {
        let caught = match result {
            Ok(Ok(caught)) => caught,
            Ok(Err(error)) => CatchUp::failed(format!("{error:#}"), messages),
            Err(error) => CatchUp::failed(error.to_string(), messages),
        };
        match caught.done_after {
            Some(after) => times.record_duration(after),
            None => behind += 1,
        }
        total.add(&caught);
    }

    let parameters = json!({
        "groups": groups, "members": members, "messages": messages,
        "size": size, "timeout_s": timeout.as_secs_f64(),
    });
    let mut report = Report::new("reconnect", env.targets(), parameters);
    let clients = (groups * members) as u64;
    report.figure("clients", clients as f64, "");
    report.figure("setup", setup_time.as_secs_f64(), "s");
    report.figure(
        "sent while away",
        (groups as u64 * messages as u64) as f64,
        "msg",
    );
    report.figure("send phase", send_time.as_secs_f64(), "s");
    let all = times.summary();
    report.figure("all caught up after", all.max_ms / 1_000.0, "s");
    report.figure("reconnect phase", all_back.as_secs_f64(), "s");
    report.figure(
        "caught-up events",
        (clients * messages as u64) as f64 / (all.max_ms / 1_000.0).max(1e-3),
        "events/s",
    );
    report.latency("reconnect → caught up", all);
    report.check("clients behind", behind, 0);
    report.check("missing", total.missing, 0);
    report.check("duplicated", total.duplicated, 0);
    report.check("out of order", total.out_of_order, 0);
    report.check("errors", total.errors, 0);
    // Resuming from a position repeats nothing, not even the last event seen.
    report.check("replayed (the last event seen)", total.replayed, 0);
    if let Some(error) = total.first_error {
        report.note(format!("first error: {error}"));
    }
    if env.gateways.len() > 1 {
        report.note("each client reconnected to the next gateway replica");
    }
    Ok(report)
}

/// The messaging URL's connection id at another gateway.
fn reroute(messaging: &Url, gateway: &Url) -> anyhow::Result<Url> {
    let mut url = gateway.clone();
    url.set_scheme("ws")
        .map_err(|()| anyhow::anyhow!("cannot make {gateway} a ws URL"))?;
    url.set_path(messaging.path());
    Ok(url)
}

/// Sends `seqs` as `sender` to `group_id`, then waits for all their acknowledgements.
async fn send_all(
    ws: &mut Ws,
    sender: u32,
    group_id: &str,
    seqs: std::ops::Range<u32>,
    size: usize,
    timeout: Duration,
) -> anyhow::Result<()> {
    let count = seqs.len();
    for seq in seqs {
        let stamp = Stamp {
            sender,
            seq,
            sent_ns: 0,
        };
        ws.send(Message::text(stamp.request(group_id, size)))
            .await?;
    }
    let mut acked = 0;
    let acks = async {
        while acked < count {
            let text = socket::next_text(ws).await?;
            let event: Event = serde_json::from_str(&text)?;
            match event.kind {
                payload::MESSAGE_SENT => acked += 1,
                payload::ERROR => bail!("send refused: {}", event.error_text()),
                _ => {}
            }
        }
        anyhow::Ok(())
    };
    tokio::time::timeout(timeout, acks)
        .await
        .context("acknowledgements did not all arrive in time")?
}

/// Reads until a message from `writer` arrives; returns its log position.
async fn wait_for(ws: &mut Ws, writer: u32, timeout: Duration) -> anyhow::Result<i64> {
    let wait = async {
        loop {
            let text = socket::next_text(ws).await?;
            let event: Event = serde_json::from_str(&text)?;
            if event.kind == payload::MESSAGE
                && event.message_stamp().is_some_and(|s| s.sender == writer)
            {
                return anyhow::Ok(event.position);
            }
        }
    };
    tokio::time::timeout(timeout, wait)
        .await
        .context("the warm-up message did not arrive")?
}

/// What one client saw while catching up.
#[derive(Debug, Default)]
struct CatchUp {
    done_after: Option<Duration>,
    missing: u64,
    duplicated: u64,
    out_of_order: u64,
    replayed: u64,
    errors: u64,
    first_error: Option<String>,
}

impl CatchUp {
    fn failed(error: String, messages: u32) -> Self {
        Self {
            missing: messages as u64,
            errors: 1,
            first_error: Some(error),
            ..Self::default()
        }
    }

    fn add(&mut self, other: &CatchUp) {
        self.missing += other.missing;
        self.duplicated += other.duplicated;
        self.out_of_order += other.out_of_order;
        self.replayed += other.replayed;
        self.errors += other.errors;
        if self.first_error.is_none() {
            self.first_error.clone_from(&other.first_error);
        }
    }
}

/// Where a client resumes, and how it asks.
struct Resume {
    after: i64,
    by_request: bool,
}

async fn catch_up(
    mut url: Url,
    source: Option<std::net::IpAddr>,
    writer: u32,
    from: Resume,
    messages: u32,
    back: Instant,
    timeout: Duration,
) -> anyhow::Result<CatchUp> {
    if !from.by_request {
        url.query_pairs_mut()
            .append_pair("position", &from.after.to_string());
    }
    let mut ws = socket::connect(&url, source).await?;
    let mut early: std::collections::VecDeque<String> = socket::ready(&mut ws).await?.into();
    // Resumed by the URL, everything comes in log order, and is judged so. Resumed by a
    // request, events the gateway pushes before it are live ones the relay published after
    // this socket was registered (it lags under a storm): a client keeps them and, when its
    // catch-up replays them, keeps one copy. They are counted, not judged for order.
    let mut live_before = 0;
    if from.by_request {
        live_before = early.len();
        ws.send(Message::text(payload::catch_up(from.after)))
            .await?;
    }
    let mut seen = vec![false; messages as usize + 1];
    let mut seen_live = vec![false; messages as usize + 1];
    let mut result = CatchUp::default();
    let mut highest_seq = 0i64;
    let mut got = 0u32;
    let mut read = 0usize;
    let reading = async {
        while got < messages {
            let text = match early.pop_front() {
                Some(text) => text,
                None => socket::next_text(&mut ws).await?,
            };
            let live = read < live_before;
            read += 1;
            let event: Event = serde_json::from_str(&text)?;
            if event.kind == payload::ERROR {
                result.errors += 1;
                result.first_error.get_or_insert(event.error_text());
                continue;
            }
            let Some(stamp) = event
                .message_stamp()
                .filter(|_| event.kind == payload::MESSAGE)
            else {
                continue;
            };
            if stamp.sender != writer || stamp.seq > messages {
                continue;
            }
            if live {
                seen_live[stamp.seq as usize] = true;
            } else if let Some(seq) = event.body.seq {
                if seq < highest_seq {
                    result.out_of_order += 1;
                }
                highest_seq = highest_seq.max(seq);
            }
            let slot = &mut seen[stamp.seq as usize];
            match (stamp.seq, *slot) {
                (0, _) => result.replayed += 1,
                // The catch-up's copy of one pushed before the request.
                (n, true) if !live && seen_live[n as usize] => seen_live[n as usize] = false,
                (_, true) => result.duplicated += 1,
                (_, false) => {
                    *slot = true;
                    got += 1;
                }
            }
        }
        anyhow::Ok(())
    };
    let finished = tokio::time::timeout(timeout, reading).await;
    match finished {
        Ok(Ok(())) => result.done_after = Some(back.elapsed()),
        Ok(Err(error)) => {
            result.errors += 1;
            result.first_error.get_or_insert(format!("{error:#}"));
        }
        Err(_) => {}
    }
    result.missing = seen[1..].iter().filter(|s| !**s).count() as u64;
    let _ = ws.close(None).await;
    Ok(result)
}
