//! Receipts: per-member watermarks that only move forward; reading implies delivery.

use chat_service::error::ChatError;
use chat_service::store::{ChatStore, ReceiptKind};
use uuid::Uuid;

use super::{ALICE, BOB, CAROL, DAVE, conversation, group, id, ids, refused, send};

/// Bob's (delivered, read) watermarks as the conversation shows them.
async fn bobs_watermarks<S: ChatStore>(store: &S, team: Uuid) -> (i64, i64) {
    let group = conversation(store, ALICE, team).await;
    let bob = group
        .members
        .iter()
        .find(|m| m.user_id == BOB.to_string())
        .expect("bob is a member");
    (bob.last_delivered_seq, bob.last_read_seq)
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
