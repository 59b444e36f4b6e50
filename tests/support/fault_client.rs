//! The fault suite's clients over the native WebSocket protocol: senders
//! that retry each message with the same client message id until it is acknowledged, and
//! receivers that reconnect (alternating gateways) and catch up from the last position seen.
#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use super::fault_record::{Ack, Attempt, Delivery, Outcome, Record};
use super::fault_rest::Account;

/// How long a send waits for its acknowledgement, and a connection for its handshake.
pub const ANSWER_WITHIN: Duration = Duration::from_secs(3);
/// After the senders are told to stop, how long an unacknowledged message is still retried.
const FINISH_WITHIN: Duration = Duration::from_secs(20);
/// A request no server knows: its error (99) comes after the catch-up that precedes it, since a
/// socket answers requests in order — the client's marker that the catch-up is complete.
const MARKER_METHOD: i64 = 999;

pub type Socket = tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>;

/// What every client task shares: the gateways, the groups' ids and the record.
pub struct Ctx {
    pub gateways: [String; 2],
    pub groups: HashMap<String, usize>,
    pub record: Mutex<Record>,
    pub since: Instant,
}

impl Ctx {
    pub fn record(&self) -> std::sync::MutexGuard<'_, Record> {
        self.record.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Opens the socket of `url`'s connection id on `gateway`; `small_buffer` gives it a 32 KiB
/// receive buffer (a client on a slow link).
pub async fn connect(gateway: &str, url: &str, small_buffer: bool) -> Result<Socket, String> {
    let id = url.rsplit('/').next().unwrap();
    let open = async {
        let socket = tokio::net::TcpSocket::new_v4().map_err(|e| e.to_string())?;
        if small_buffer {
            socket
                .set_recv_buffer_size(32 * 1024)
                .map_err(|e| e.to_string())?;
        }
        let stream = socket
            .connect(gateway.parse().unwrap())
            .await
            .map_err(|e| e.to_string())?;
        let (socket, _) = tokio_tungstenite::client_async(format!("ws://{gateway}/{id}"), stream)
            .await
            .map_err(|e| e.to_string())?;
        Ok(socket)
    };
    tokio::time::timeout(ANSWER_WITHIN, open)
        .await
        .unwrap_or_else(|_| Err("handshake timed out".into()))
}

pub struct SenderSpec {
    pub account: Account,
    pub group: usize,
    pub group_id: String,
    pub interval: Duration,
    pub size: usize,
    pub gateway: usize,
    /// Prefix of this round's client message ids.
    pub prefix: String,
}

/// Sends one message per interval until `stop`, each retried with the same client message id
/// (reconnecting to the other gateway after an error, a close or no answer) until acknowledged.
pub async fn sender(ctx: Arc<Ctx>, spec: SenderSpec, stop: Arc<AtomicBool>) {
    let (mut socket, mut gateway, mut n) = (None::<Socket>, spec.gateway, 0u64);
    let mut next = Instant::now();
    while !stop.load(Ordering::Relaxed) {
        n += 1;
        let cmid = format!("{}-{n}", spec.prefix);
        let mut data = format!("{cmid} ");
        while data.len() < spec.size {
            data.push_str("0123456789abcdef");
        }
        data.truncate(spec.size.max(cmid.len()));
        let frame = json!({"method": 40, "body": {"group_id": spec.group_id, "data": data, "client_message_id": cmid}}).to_string();
        let mut stopped_at = None;
        loop {
            if stop.load(Ordering::Relaxed) {
                let at = *stopped_at.get_or_insert_with(Instant::now);
                if at.elapsed() > FINISH_WITHIN {
                    ctx.record().unfinished.push(cmid.clone());
                    return;
                }
            }
            let started = Instant::now();
            if socket.is_none() {
                match connect(&ctx.gateways[gateway], &spec.account.url, false).await {
                    Ok(s) => socket = Some(s),
                    Err(error) => {
                        // A handshake that never completes is a hang like an unanswered send.
                        let outcome = if error.contains("timed out") {
                            Outcome::Timeout
                        } else {
                            Outcome::Refused
                        };
                        let took = started.elapsed();
                        let attempt = Attempt {
                            started,
                            took,
                            outcome,
                        };
                        ctx.record().attempts.push(attempt);
                        gateway = 1 - gateway;
                        tokio::time::sleep(Duration::from_millis(150)).await;
                        continue;
                    }
                }
            }
            let (outcome, acked) = attempt(socket.as_mut().unwrap(), &frame, &cmid).await;
            let took = started.elapsed();
            let done = {
                let mut record = ctx.record();
                record.attempts.push(Attempt {
                    started,
                    took,
                    outcome: outcome.clone(),
                });
                if let Some((message_id, seq)) = acked {
                    let ack = Ack {
                        message_id,
                        group: spec.group,
                        seq,
                        sender: spec.account.name.clone(),
                        at: Instant::now(),
                    };
                    record.ack(&cmid, ack);
                }
                outcome == Outcome::Acked
            };
            if done {
                break;
            }
            if let Some(mut s) = socket.take() {
                let _ = tokio::time::timeout(Duration::from_millis(200), s.close(None)).await;
            }
            gateway = 1 - gateway;
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        next = (next + spec.interval).max(Instant::now());
        tokio::time::sleep_until(next.into()).await;
    }
}

/// Sends `frame` and waits for its acknowledgement (event 21 naming `cmid`), an error, a close.
async fn attempt(socket: &mut Socket, frame: &str, cmid: &str) -> (Outcome, Option<(String, i64)>) {
    if socket.send(Message::text(frame)).await.is_err() {
        return (Outcome::Closed(None), None);
    }
    let deadline = tokio::time::Instant::now() + ANSWER_WITHIN;
    loop {
        let frame = match tokio::time::timeout_at(deadline, socket.next()).await {
            Err(_) => return (Outcome::Timeout, None),
            Ok(None | Some(Err(_))) => return (Outcome::Closed(None), None),
            Ok(Some(Ok(Message::Close(close)))) => {
                return (Outcome::Closed(close.map(|c| u16::from(c.code))), None);
            }
            Ok(Some(Ok(Message::Text(text)))) => text,
            Ok(Some(Ok(_))) => continue,
        };
        let Ok(event) = serde_json::from_str::<Value>(&frame) else {
            continue;
        };
        match event["type"].as_i64() {
            Some(21) if event["body"]["client_message_id"] == cmid => {
                let id = event["body"]["message_id"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
                return (
                    Outcome::Acked,
                    Some((id, event["body"]["seq"].as_i64().unwrap_or(-1))),
                );
            }
            Some(99) => {
                let code = event["body"]["code"].as_str().unwrap_or("?").to_owned();
                return (Outcome::Error(code), None);
            }
            _ => {}
        }
    }
}

pub struct ReceiverSpec {
    pub index: usize,
    pub account: Account,
    pub gateway: usize,
    /// Reconnect by itself this often (after each catch-up has completed).
    pub roam: Option<Duration>,
    pub small_buffer: bool,
    /// While set, the receiver stops reading its socket.
    pub paused: Arc<AtomicBool>,
}

/// Asks for everything after `position`, then sends the marker. False when the socket failed.
async fn catch_up(socket: &mut Socket, position: i64) -> bool {
    let frames = [
        json!({"method": 20, "position": position}),
        json!({"method": MARKER_METHOD}),
    ];
    for frame in frames {
        if socket.send(Message::text(frame.to_string())).await.is_err() {
            return false;
        }
    }
    true
}

/// Stays connected until `stop`: reconnects (to the other gateway) whenever the socket ends,
/// sending method 20 with the last position it saw, and records every message event. After
/// method 20 it sends a request no server knows; its error marks the end of the catch-up.
pub async fn receiver(ctx: Arc<Ctx>, spec: ReceiverSpec, stop: Arc<AtomicBool>) {
    let (mut resume, mut gateway, mut number) = (0i64, spec.gateway, 0u32);
    let note = |how: String| {
        ctx.record().receivers[spec.index]
            .closes
            .push((Instant::now(), how))
    };
    while !stop.load(Ordering::Relaxed) {
        let mut socket =
            match connect(&ctx.gateways[gateway], &spec.account.url, spec.small_buffer).await {
                Ok(socket) => socket,
                Err(error) => {
                    note(format!("connect to gateway {gateway} failed: {error}"));
                    gateway = 1 - gateway;
                    tokio::time::sleep(Duration::from_millis(150)).await;
                    continue;
                }
            };
        number += 1;
        {
            let mut record = ctx.record();
            record.receivers[spec.index].connections = number;
            record.receivers[spec.index].gateway = gateway;
        }
        let opened = Instant::now();
        let (mut caught_up, mut failed, mut seen) = (false, false, resume);
        // Whether positions went backwards or a catch-up failed on this connection before its
        // catch-up completed: then what it saw says nothing about what it missed.
        let mut unsure = false;
        let mut ok = catch_up(&mut socket, resume).await;
        let how = loop {
            if !ok {
                break "send failed".to_owned();
            }
            if stop.load(Ordering::Relaxed) {
                let _ = tokio::time::timeout(Duration::from_millis(200), socket.close(None)).await;
                return;
            }
            if spec
                .roam
                .is_some_and(|every| caught_up && opened.elapsed() >= every)
            {
                let _ = tokio::time::timeout(Duration::from_millis(200), socket.close(None)).await;
                break "left by itself".to_owned();
            }
            if spec.paused.load(Ordering::Relaxed) {
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            }
            let text = match tokio::time::timeout(Duration::from_millis(50), socket.next()).await {
                Err(_) => continue,
                Ok(None) => break "ended".to_owned(),
                Ok(Some(Err(error))) => break format!("error: {error}"),
                Ok(Some(Ok(Message::Close(close)))) => {
                    break format!("close {:?}", close.map(|c| u16::from(c.code)));
                }
                Ok(Some(Ok(Message::Text(text)))) => text,
                Ok(Some(Ok(_))) => continue,
            };
            let Ok(event) = serde_json::from_str::<Value>(&text) else {
                continue;
            };
            let position = event["position"].as_i64().unwrap_or(0);
            unsure |= !caught_up && position > 0 && position < seen;
            seen = seen.max(position);
            if caught_up {
                resume = resume.max(position);
            }
            let body = &event["body"];
            match event["type"].as_i64() {
                Some(20) => {
                    let Some(&group) = ctx.groups.get(body["group_id"].as_str().unwrap_or(""))
                    else {
                        continue;
                    };
                    let delivery = Delivery {
                        message_id: body["message_id"].as_str().unwrap_or_default().to_owned(),
                        group,
                        seq: body["seq"].as_i64().unwrap_or(-1),
                        position,
                        connection: number,
                        at: Instant::now(),
                    };
                    ctx.record().deliver(spec.index, delivery);
                }
                Some(99) if body["method"] == MARKER_METHOD && failed => {
                    // The catch-up failed: ask again from where this connection began.
                    failed = false;
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    ok = catch_up(&mut socket, resume).await;
                }
                Some(99) if body["method"] == MARKER_METHOD => {
                    caught_up = true;
                    resume = resume.max(seen);
                }
                Some(99) => {
                    let error = format!("+{:.2}s {}", ctx.since.elapsed().as_secs_f64(), body);
                    ctx.record().receivers[spec.index].errors.push(error);
                    failed |= body["method"] == 20;
                    unsure |= failed;
                }
                _ => {}
            }
        };
        // Positions come in order, catch-up first, so the last one seen is where to resume —
        // unless this connection gave reason to doubt it.
        let pending = match (caught_up, unsure) {
            (true, _) => "",
            (false, false) => {
                resume = resume.max(seen);
                " (before its catch-up completed)"
            }
            (false, true) => " (before its catch-up completed; resuming from where it began)",
        };
        note(format!(
            "gateway {gateway} connection {number}: {how}{pending}"
        ));
        gateway = 1 - gateway;
        tokio::time::sleep(Duration::from_millis(if spec.roam.is_some() {
            10
        } else {
            100
        }))
        .await;
    }
}
