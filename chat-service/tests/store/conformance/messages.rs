//! Sending: seq from 1 without gaps, one message per client message id, and who may send.

use std::collections::BTreeMap;
use std::sync::Arc;

use chat_proto::chat::conversation_event::Kind;
use chat_service::error::ChatError;
use chat_service::log::MAX_PAGE;
use chat_service::store::ChatStore;
use tokio::task::JoinSet;
use uuid::Uuid;

use super::logged::Log;

use super::{ALICE, BOB, DAVE, all_messages, conversation, group, ids, message, refused, send};

pub async fn sends_are_numbered_one_to_n<S: ChatStore>(store: S) {
    let team = group(&store, ALICE, &[BOB], false).await;
    let before = chrono::Utc::now().timestamp_millis();
    let mut sent = Vec::new();
    for (n, sender) in [ALICE, BOB, ALICE, BOB, ALICE].into_iter().enumerate() {
        let response = store
            .send_message(message(sender, team, &format!("hello {n}")))
            .await
            .expect("send");
        assert!(!response.duplicate);
        assert_eq!(response.member_ids, ids(&[ALICE, BOB]));
        sent.push(response.message.expect("the stored message"));
    }
    let seqs: Vec<i64> = sent.iter().map(|m| m.seq).collect();
    assert_eq!(seqs, vec![1, 2, 3, 4, 5]);
    assert!(sent.windows(2).all(|w| w[0].number < w[1].number));
    assert!(sent.iter().all(|m| m.created_at_ms >= before));
    assert_eq!(sent[1].sender_id, BOB.to_string());
    assert_eq!(sent[1].body, "hello 1");
    assert_eq!(sent[1].conversation_id, team.to_string());
    let history = all_messages(&store, ALICE, team).await;
    assert_eq!(history, sent, "history returns what was acknowledged");
    let group = conversation(&store, ALICE, team).await;
    assert_eq!(group.last_seq, 5);
    // Senders have seen their own messages, but a send does not move a watermark over the
    // other's message below it (it may not have arrived yet): the receipt naming that message
    // moves it, and tells its sender.
    let watermarks: Vec<(i64, i64)> = group
        .members
        .iter()
        .map(|m| (m.last_delivered_seq, m.last_read_seq))
        .collect();
    assert_eq!(watermarks, vec![(1, 1), (0, 0)]);
}

pub async fn retries_with_the_same_client_message_id_store_one_message<S: ChatStore>(store: S) {
    let team = group(&store, ALICE, &[BOB], false).await;
    let mut first = message(ALICE, team, "once");
    first.client_message_id = Some("c-1".into());
    first.signature = Some("sig".into());
    let original = store.send_message(first.clone()).await.expect("send");
    assert!(!original.duplicate);
    let stored = original.message.expect("the message");
    assert_eq!(stored.client_message_id, "c-1");
    assert_eq!(stored.signature, "sig");
    let mut retry = first.clone();
    retry.body = "changed on the way".into();
    for _ in 0..2 {
        let again = store.send_message(retry.clone()).await.expect("retry");
        assert!(again.duplicate);
        assert_eq!(
            again.message.as_ref(),
            Some(&stored),
            "the original acknowledgement"
        );
        assert_eq!(again.member_ids, ids(&[ALICE, BOB]));
    }
    // The same client id from someone else, or in another conversation, is another message.
    let mut bobs = first.clone();
    bobs.sender = BOB;
    let from_bob = store.send_message(bobs).await.expect("send");
    assert!(!from_bob.duplicate);
    assert_eq!(from_bob.message.map(|m| m.seq), Some(2));
    let other = group(&store, ALICE, &[], false).await;
    let mut elsewhere = first.clone();
    elsewhere.conversation = other;
    assert!(!store.send_message(elsewhere).await.expect("send").duplicate);
    // Retries used no seq: the next message follows on.
    assert_eq!(send(&store, ALICE, team, "next").await.seq, 3);
    let seqs: Vec<i64> = all_messages(&store, ALICE, team)
        .await
        .iter()
        .map(|m| m.seq)
        .collect();
    assert_eq!(seqs, vec![1, 2, 3]);
}

pub async fn sends_by_non_members_and_to_unknown_conversations_are_refused<S: ChatStore>(store: S) {
    let team = group(&store, ALICE, &[BOB], false).await;
    let error = refused(store.send_message(message(DAVE, team, "hi")).await);
    assert!(matches!(error, ChatError::NotAMember), "{error:?}");
    store.leave_group(BOB, team, BOB).await.expect("bob leaves");
    let error = refused(store.send_message(message(BOB, team, "hi")).await);
    assert!(matches!(error, ChatError::NotAMember), "{error:?}");
    let error = refused(
        store
            .send_message(message(ALICE, Uuid::new_v4(), "hi"))
            .await,
    );
    assert!(
        matches!(error, ChatError::ConversationNotFound),
        "{error:?}"
    );
    assert_eq!(conversation(&store, ALICE, team).await.last_seq, 0);
    assert!(all_messages(&store, ALICE, team).await.is_empty());
}

pub async fn concurrent_senders_get_contiguous_seqs<S: ChatStore>(store: S) {
    const SENDERS: usize = 8;
    const EACH: usize = 20;
    let users: Vec<Uuid> = (0..SENDERS).map(|_| Uuid::new_v4()).collect();
    let team = group(&store, users[0], &users, false).await;
    let store = Arc::new(store);
    let tasks: Vec<_> = users
        .iter()
        .map(|&user| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                let mut seqs = Vec::with_capacity(EACH);
                for n in 0..EACH {
                    seqs.push(send(&*store, user, team, &format!("{user} {n}")).await.seq);
                }
                seqs
            })
        })
        .collect();
    let mut seqs = Vec::new();
    for task in tasks {
        let mine = task.await.expect("a sender");
        assert!(
            mine.windows(2).all(|w| w[0] < w[1]),
            "one sender's seqs grow"
        );
        seqs.extend(mine);
    }
    seqs.sort_unstable();
    let expected: Vec<i64> = (1..=(SENDERS * EACH) as i64).collect();
    assert_eq!(seqs, expected);
    let stored: Vec<i64> = all_messages(&*store, users[0], team)
        .await
        .iter()
        .map(|m| m.seq)
        .collect();
    assert_eq!(stored, expected);
    assert_eq!(
        conversation(&*store, users[0], team).await.last_seq,
        (SENDERS * EACH) as i64
    );
}

pub async fn concurrent_retries_store_one_message<S: ChatStore>(store: S) {
    let team = group(&store, ALICE, &[BOB], false).await;
    let store = Arc::new(store);
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                let mut retry = message(ALICE, team, "exactly once");
                retry.client_message_id = Some("retried".into());
                store.send_message(retry).await.expect("send")
            })
        })
        .collect();
    let mut responses = Vec::new();
    for task in tasks {
        responses.push(task.await.expect("a retry"));
    }
    assert_eq!(responses.iter().filter(|r| !r.duplicate).count(), 1);
    let first = responses[0].message.clone().expect("the message");
    assert!(responses.iter().all(|r| r.message.as_ref() == Some(&first)));
    assert_eq!(first.seq, 1);
    assert_eq!(all_messages(&*store, BOB, team).await, vec![first]);
}

/// Sends to several conversations at once, some refused and some retried, as one batch would
/// hold them: each conversation's seqs stay 1..n in its senders' order, numbers and times follow
/// seq, refusals store nothing, a retry answers with its first attempt, and the log holds one
/// event per stored message, in seq order within each conversation.
pub async fn concurrent_sends_across_conversations_keep_each_ones_order<S: ChatStore>(store: S) {
    const GROUPS: usize = 6;
    const EACH: usize = 25;
    let mut teams = Vec::new();
    for _ in 0..GROUPS {
        teams.push(group(&store, ALICE, &[BOB], false).await);
    }
    let mut log = Log::new(&store).await;
    let start = log.settle().await;
    let mut tasks = JoinSet::new();
    for &team in &teams {
        let store = store.clone();
        tasks.spawn(async move {
            let mut sent = Vec::new();
            for n in 0..EACH {
                let mut next = message(if n % 2 == 0 { ALICE } else { BOB }, team, &n.to_string());
                next.client_message_id = Some(format!("m{n}"));
                sent.push(store.send_message(next).await.expect("a member's send"));
            }
            (team, sent)
        });
    }
    for n in 0..EACH {
        let store = store.clone();
        let team = teams[n % GROUPS];
        tasks.spawn(async move {
            let refused_send = store
                .send_message(message(DAVE, team, "not a member"))
                .await;
            assert!(
                matches!(refused_send, Err(ChatError::NotAMember)),
                "{refused_send:?}"
            );
            let unknown = store
                .send_message(message(ALICE, Uuid::new_v4(), "nowhere"))
                .await;
            assert!(
                matches!(unknown, Err(ChatError::ConversationNotFound)),
                "{unknown:?}"
            );
            (team, Vec::new())
        });
    }
    let mut numbers = Vec::new();
    for (team, sent) in tasks.join_all().await {
        if sent.is_empty() {
            continue;
        }
        assert!(sent.iter().all(|r| !r.duplicate));
        let stored: Vec<_> = sent
            .iter()
            .map(|r| r.message.clone().expect("a message"))
            .collect();
        let seqs: Vec<i64> = stored.iter().map(|m| m.seq).collect();
        assert_eq!(
            seqs,
            (1..=EACH as i64).collect::<Vec<_>>(),
            "seqs of {team}"
        );
        assert!(
            stored.windows(2).all(|w| w[0].number < w[1].number),
            "numbers follow seq"
        );
        assert!(
            stored
                .windows(2)
                .all(|w| w[0].created_at_ms <= w[1].created_at_ms),
            "times follow seq"
        );
        assert_eq!(all_messages(&store, BOB, team).await, stored);
        // Retried now, each answers with its first attempt and stores nothing.
        for (n, first) in stored.iter().enumerate().step_by(7) {
            let mut again = message(if n % 2 == 0 { ALICE } else { BOB }, team, "again");
            again.client_message_id = Some(format!("m{n}"));
            let answer = store.send_message(again).await.expect("a retry");
            assert!(answer.duplicate);
            assert_eq!(answer.message.as_ref(), Some(first));
        }
        assert_eq!(
            conversation(&store, ALICE, team).await.last_seq,
            EACH as i64
        );
        numbers.extend(stored.iter().map(|m| m.number));
    }
    numbers.sort_unstable();
    numbers.dedup();
    assert_eq!(
        numbers.len(),
        GROUPS * EACH,
        "every message has a number of its own"
    );

    log.settle().await;
    let events = log.read(&[BOB], start, None, MAX_PAGE).await;
    let mut logged: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for entry in events {
        if let Some(Kind::Message(m)) = entry.event.and_then(|e| e.kind) {
            assert_eq!(entry.recipient_ids, ids(&[BOB]), "read as bob");
            logged.entry(m.conversation_id).or_default().push(m.seq);
        }
    }
    assert_eq!(logged.len(), GROUPS);
    for seqs in logged.values() {
        assert_eq!(seqs, &(1..=EACH as i64).collect::<Vec<_>>());
    }
}

/// A send the database itself rejects (a NUL in the body: Postgres refuses it in text, which
/// the service's own validation would have caught first) does not take down the sends that
/// happened to be stored with it: they are all stored, once.
pub async fn a_send_the_database_rejects_does_not_fail_the_others<S: ChatStore>(store: S) {
    let team = group(&store, ALICE, &[BOB], false).await;
    let mut tasks = JoinSet::new();
    for n in 0..40 {
        let store = store.clone();
        tasks.spawn(async move {
            let body = if n == 20 {
                "bad \0 byte".to_owned()
            } else {
                format!("good {n}")
            };
            (n, store.send_message(message(ALICE, team, &body)).await)
        });
    }
    let mut good = 0;
    for (n, sent) in tasks.join_all().await {
        if n != 20 {
            sent.unwrap_or_else(|error| panic!("send {n} failed with the bad one: {error:?}"));
            good += 1;
        }
    }
    let stored = all_messages(&store, ALICE, team).await;
    let seqs: Vec<i64> = stored.iter().map(|m| m.seq).collect();
    assert_eq!(
        seqs,
        (1..=stored.len() as i64).collect::<Vec<_>>(),
        "no gaps"
    );
    assert_eq!(
        stored.iter().filter(|m| m.body.starts_with("good")).count(),
        good
    );
}
