//! Positions follow commit order: a reader that keeps reading after the last position it saw,
//! while many senders commit at once, sees every event exactly once — none appears behind it.

use std::collections::{BTreeMap, HashSet};

use chat_proto::chat::conversation_event::Kind;
use chat_service::log::MAX_PAGE;
use chat_service::store::ChatStore;
use tokio::task::JoinSet;
use uuid::Uuid;

use super::logged::Log;
use super::{ALICE, group, send};

const SENDERS: usize = 16;
/// Enough that a log positioned in insert order instead of commit order fails most runs.
const MESSAGES_EACH: usize = 60;

/// Reads `reader`'s log after `after` once, as a client resuming would: positions must only
/// grow, and nothing may be at or before `after`.
async fn read_after<S: ChatStore>(
    log: &mut Log<S>,
    reader: Uuid,
    after: &mut i64,
    seen: &mut Vec<(i64, Kind)>,
) -> usize {
    let page = log.read(&[reader], *after, None, MAX_PAGE).await;
    for entry in &page {
        assert!(entry.position > *after, "{} after {after}", entry.position);
        *after = entry.position;
        let kind = entry.event.as_ref().and_then(|e| e.kind.clone());
        seen.push((entry.position, kind.expect("an event")));
    }
    page.len()
}

pub async fn positions_follow_commit_order_under_concurrent_senders<S: ChatStore>(store: S) {
    let reader = ALICE;
    let mut groups = Vec::new();
    for n in 0..SENDERS {
        let sender = Uuid::from_u128(0x5e4d_0000_0000_4000_8000_0000_0000_0000 + n as u128);
        groups.push((sender, group(&store, sender, &[reader], false).await));
    }
    let senders = tokio::spawn({
        let store = store.clone();
        async move {
            let mut tasks = JoinSet::new();
            for (sender, conversation) in groups {
                let store = store.clone();
                tasks.spawn(async move {
                    let mut ids = Vec::new();
                    for n in 0..MESSAGES_EACH {
                        let body = format!("{sender} {n}");
                        ids.push(send(&store, sender, conversation, &body).await.id);
                    }
                    ids
                });
            }
            tasks.join_all().await.concat()
        }
    });

    // The reader keeps positioning (as the relay does) and reading while the senders run.
    let mut log = Log::new(&store).await;
    let (mut after, mut seen, mut reads) = (0, Vec::new(), 0);
    while !senders.is_finished() {
        read_after(&mut log, reader, &mut after, &mut seen).await;
        reads += 1;
    }
    let sent: HashSet<String> = senders.await.expect("the senders").into_iter().collect();
    while read_after(&mut log, reader, &mut after, &mut seen).await > 0 {}
    assert!(reads > 1, "the reader read while the senders sent");

    assert!(seen.windows(2).all(|w| w[0].0 < w[1].0));
    let created = seen
        .iter()
        .filter(|(_, k)| matches!(k, Kind::GroupCreated(_)))
        .count();
    assert_eq!(created, SENDERS);
    let mut messages: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    let mut ids = HashSet::new();
    for (_, kind) in &seen {
        if let Kind::Message(m) = kind {
            assert!(ids.insert(m.id.clone()), "{} seen twice", m.id);
            messages
                .entry(m.conversation_id.clone())
                .or_default()
                .push(m.seq);
        }
    }
    assert_eq!(sent.len(), SENDERS * MESSAGES_EACH);
    let missed: Vec<&String> = sent.difference(&ids).collect();
    assert!(
        missed.is_empty(),
        "{} messages never seen: {missed:?}",
        missed.len()
    );
    assert_eq!(ids.len(), sent.len(), "nothing seen that was not sent");
    let in_order: Vec<i64> = (1..=MESSAGES_EACH as i64).collect();
    for (conversation, seqs) in &messages {
        assert_eq!(
            seqs, &in_order,
            "conversation {conversation} in the order sent"
        );
    }
    assert_eq!(after, log.settle().await, "the reader reached the head");
}
