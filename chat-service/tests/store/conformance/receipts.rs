//! Receipts: per-member watermarks that only move forward; reading implies delivery.

use chat_service::error::ChatError;
use chat_service::store::{ChatStore, ReceiptKind};
use uuid::Uuid;

use super::{ALICE, BOB, CAROL, DAVE, all_messages, conversation, group, id, ids, refused, send};

/// `user`'s (delivered, read) watermarks as the conversation shows them.
async fn watermarks<S: ChatStore>(store: &S, team: Uuid, user: Uuid) -> (i64, i64) {
    let group = conversation(store, ALICE, team).await;
    let member = group
        .members
        .iter()
        .find(|m| m.user_id == user.to_string())
        .expect("a member");
    (member.last_delivered_seq, member.last_read_seq)
}

/// Bob's watermarks.
async fn bobs_watermarks<S: ChatStore>(store: &S, team: Uuid) -> (i64, i64) {
    watermarks(store, team, BOB).await
}

pub async fn receipts_only_move_forward_and_read_implies_delivered<S: ChatStore>(store: S) {
    let team = group(&store, ALICE, &[BOB, CAROL], false).await;
    let mut sent = Vec::new();
    for n in 1..=4 {
        sent.push(send(&store, ALICE, team, &format!("m{n}")).await);
    }
    let mark = |message: &chat_proto::chat::Message, kind| store.mark(BOB, id(&message.id), kind);
    let delivered = mark(&sent[1], ReceiptKind::Delivered).await.expect("mark");
    assert!(delivered.advanced);
    assert_eq!(delivered.message.as_ref(), Some(&sent[1]));
    assert_eq!(delivered.member_ids, ids(&[ALICE, BOB, CAROL]));
    assert_eq!(bobs_watermarks(&store, team).await, (2, 0));
    let older = mark(&sent[0], ReceiptKind::Delivered).await.expect("mark");
    assert!(!older.advanced, "watermarks never move back");
    let same = mark(&sent[1], ReceiptKind::Delivered).await.expect("mark");
    assert!(!same.advanced);
    assert_eq!(bobs_watermarks(&store, team).await, (2, 0));
    // Reading message 3 also delivers it.
    let read = mark(&sent[2], ReceiptKind::Read).await.expect("mark");
    assert!(read.advanced);
    assert_eq!(bobs_watermarks(&store, team).await, (3, 3));
    assert!(
        !mark(&sent[0], ReceiptKind::Read)
            .await
            .expect("mark")
            .advanced
    );
    // Delivery can run ahead of reading; reading behind it leaves delivery where it is.
    assert!(
        mark(&sent[3], ReceiptKind::Delivered)
            .await
            .expect("mark")
            .advanced
    );
    assert_eq!(bobs_watermarks(&store, team).await, (4, 3));
    assert!(
        !mark(&sent[1], ReceiptKind::Read)
            .await
            .expect("mark")
            .advanced
    );
    assert!(
        mark(&sent[3], ReceiptKind::Read)
            .await
            .expect("mark")
            .advanced
    );
    assert_eq!(bobs_watermarks(&store, team).await, (4, 4));
    // Nobody else's watermarks moved.
    let group = conversation(&store, ALICE, team).await;
    let carol = group
        .members
        .iter()
        .find(|m| m.user_id == CAROL.to_string());
    assert_eq!(
        carol.map(|m| (m.last_delivered_seq, m.last_read_seq)),
        Some((0, 0))
    );
}

pub async fn receipts_need_a_member_and_a_message<S: ChatStore>(store: S) {
    let team = group(&store, ALICE, &[BOB], false).await;
    let message = id(&send(&store, ALICE, team, "hi").await.id);
    let error = refused(store.mark(DAVE, message, ReceiptKind::Delivered).await);
    assert!(matches!(error, ChatError::NotAMember), "{error:?}");
    let error = refused(store.mark(BOB, Uuid::new_v4(), ReceiptKind::Read).await);
    assert!(matches!(error, ChatError::MessageNotFound), "{error:?}");
    store.leave_group(BOB, team, BOB).await.expect("bob leaves");
    let error = refused(store.mark(BOB, message, ReceiptKind::Read).await);
    assert!(matches!(error, ChatError::NotAMember), "{error:?}");
}

/// Members sending at once, so that one batch holds several people's messages: each sender's
/// own watermarks end where sending one message at a time in seq order puts them — moved up to
/// a sender's message only while no other member's message lies below it, even one stored in
/// the same batch just before it (which the sender may not have received yet).
pub async fn a_send_moves_its_senders_watermarks_only_over_their_own_messages<S: ChatStore>(
    store: S,
) {
    const EACH: usize = 30;
    let senders = [ALICE, BOB, CAROL];
    let team = group(&store, ALICE, &senders[1..], false).await;
    let store = std::sync::Arc::new(store);
    let mut tasks = tokio::task::JoinSet::new();
    for sender in senders {
        let store = std::sync::Arc::clone(&store);
        tasks.spawn(async move {
            for n in 0..EACH {
                send(&*store, sender, team, &format!("{sender} {n}")).await;
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.expect("a sender");
    }
    let group = conversation(&*store, ALICE, team).await;
    let by_seq: Vec<(i64, String)> = all_messages(&*store, ALICE, team)
        .await
        .into_iter()
        .map(|m| (m.seq, m.sender_id))
        .collect();
    assert_eq!(by_seq.len(), senders.len() * EACH);
    for member in &group.members {
        let mut expected = 0;
        for (seq, sender) in &by_seq {
            let others_between = by_seq
                .iter()
                .any(|(s, from)| *s > expected && s < seq && *from != member.user_id);
            if *sender == member.user_id && !others_between {
                expected = *seq;
            }
        }
        assert_eq!(
            (member.last_delivered_seq, member.last_read_seq),
            (expected, expected),
            "{}'s watermarks",
            member.user_id
        );
    }
}

/// One batch holding Bob's message and then Alice's, while both have seen everything before:
/// Alice's watermarks stay below Bob's message (she may not have received it), Bob's move up
/// to his; a retry and a refusal in the batch move nothing. Then Alice's read
/// receipt for Bob's message moves hers, so Bob is told.
pub async fn a_batch_moves_a_senders_watermarks_only_over_their_own_messages<S: ChatStore>(
    store: S,
) {
    let team = group(&store, ALICE, &[BOB, CAROL], false).await;
    let first = send(&store, ALICE, team, "first").await;
    store
        .mark(BOB, id(&first.id), ReceiptKind::Read)
        .await
        .expect("Bob reads Alice's first message");
    assert_eq!(watermarks(&store, team, ALICE).await, (1, 1));
    assert_eq!(watermarks(&store, team, BOB).await, (1, 1));
    let mut retried = super::message(BOB, team, "bob");
    retried.client_message_id = Some("bob-1".into());
    let answers = store
        .send_messages(vec![
            retried.clone(),
            super::message(DAVE, team, "not a member"),
            super::message(ALICE, team, "alice"),
            retried,
        ])
        .await;
    let seqs: Vec<Option<i64>> = answers
        .iter()
        .map(|a| {
            a.as_ref()
                .ok()
                .and_then(|r| r.message.as_ref())
                .map(|m| m.seq)
        })
        .collect();
    assert_eq!(seqs, vec![Some(2), None, Some(3), Some(2)]);
    assert!(matches!(answers[1], Err(ChatError::NotAMember)));
    assert!(answers[3].as_ref().is_ok_and(|r| r.duplicate));
    assert_eq!(
        watermarks(&store, team, ALICE).await,
        (1, 1),
        "Bob's message lies below Alice's"
    );
    assert_eq!(watermarks(&store, team, BOB).await, (2, 2));
    assert_eq!(watermarks(&store, team, CAROL).await, (0, 0));
    let bobs = answers[0].as_ref().ok().and_then(|r| r.message.clone());
    let read = store
        .mark(
            ALICE,
            id(&bobs.expect("bob's message").id),
            ReceiptKind::Read,
        )
        .await
        .expect("a receipt");
    assert!(
        read.advanced,
        "Alice's receipt for Bob's message moves her watermark"
    );
    assert_eq!(watermarks(&store, team, ALICE).await, (2, 2));
}
