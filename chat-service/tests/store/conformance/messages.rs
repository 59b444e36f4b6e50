//! Sending: seq from 1 without gaps, one message per client message id, and who may send.

use std::sync::Arc;

use chat_service::error::ChatError;
use chat_service::store::{ChatStore, MessageRange};
use uuid::Uuid;

use super::{ALICE, BOB, DAVE, conversation, group, ids, message, refused, send};

/// Every message of a conversation, oldest first, read page by page.
async fn all_messages<S: ChatStore>(
    store: &S,
    user: Uuid,
    conversation: Uuid,
) -> Vec<chat_proto::chat::Message> {
    let mut all = Vec::new();
    loop {
        let page = store
            .list_messages(
                user,
                conversation,
                MessageRange {
                    // From the start: `after_seq` reads forwards.
                    after_seq: Some(all.last().map_or(0, |m: &chat_proto::chat::Message| m.seq)),
                    limit: 100,
                    ..MessageRange::default()
                },
            )
            .await
            .expect("list messages");
        all.extend(page.messages);
        if !page.has_more {
            return all;
        }
    }
}

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
    // Senders have seen their own messages.
    let watermarks: Vec<(i64, i64)> = group
        .members
        .iter()
        .map(|m| (m.last_delivered_seq, m.last_read_seq))
        .collect();
    assert_eq!(watermarks, vec![(5, 5), (4, 4)]);
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
