//! Receipts: delivered and read watermarks that only move forward.

use chat_proto::chat::{GetConversationRequest, ReceiptRequest, ReceiptResponse};
use tonic::Code;

use crate::helpers::{
    ALICE, BOB, CAROL, Client, DAVE, assert_refused, create_group, send, spawn_chat,
};

fn receipt(user: &str, message: &str) -> ReceiptRequest {
    ReceiptRequest {
        user_id: user.into(),
        message_id: message.into(),
    }
}

async fn delivered(client: &mut Client, user: &str, message: &str) -> ReceiptResponse {
    client
        .mark_delivered(receipt(user, message))
        .await
        .expect("mark delivered")
        .into_inner()
}

async fn read(client: &mut Client, user: &str, message: &str) -> ReceiptResponse {
    client
        .mark_read(receipt(user, message))
        .await
        .expect("mark read")
        .into_inner()
}

/// `user`'s (delivered, read) watermarks as the conversation shows them.
async fn watermarks(client: &mut Client, conversation: &str, user: &str) -> (i64, i64) {
    let conversation = client
        .get_conversation(GetConversationRequest {
            user_id: ALICE.into(),
            conversation_id: conversation.into(),
            ..Default::default()
        })
        .await
        .expect("get the conversation")
        .into_inner();
    let member = conversation
        .members
        .iter()
        .find(|m| m.user_id == user)
        .expect("a member");
    (member.last_delivered_seq, member.last_read_seq)
}

#[tokio::test]
async fn watermarks_only_move_forward_and_reading_implies_delivery() {
    let mut client = spawn_chat().await;
    let group = create_group(&mut client, ALICE, &[BOB, CAROL]).await;
    let mut sent = Vec::new();
    for body in ["one", "two", "three"] {
        sent.push(send(&mut client, ALICE, &group.id, body).await);
    }
    assert_eq!(watermarks(&mut client, &group.id, ALICE).await, (3, 3));
    assert_eq!(watermarks(&mut client, &group.id, BOB).await, (0, 0));

    let first = delivered(&mut client, BOB, &sent[1].id).await;
    assert!(first.advanced);
    assert_eq!(first.message.as_ref(), Some(&sent[1]));
    assert_eq!(first.member_ids, [ALICE, BOB, CAROL]);
    assert!(!delivered(&mut client, BOB, &sent[1].id).await.advanced);
    assert!(!delivered(&mut client, BOB, &sent[0].id).await.advanced);
    assert_eq!(watermarks(&mut client, &group.id, BOB).await, (2, 0));

    assert!(read(&mut client, BOB, &sent[2].id).await.advanced);
    assert_eq!(watermarks(&mut client, &group.id, BOB).await, (3, 3));
    assert!(!read(&mut client, BOB, &sent[2].id).await.advanced);
    assert!(!read(&mut client, BOB, &sent[0].id).await.advanced);
    assert!(!delivered(&mut client, BOB, &sent[2].id).await.advanced);
    assert_eq!(watermarks(&mut client, &group.id, BOB).await, (3, 3));

    assert!(read(&mut client, CAROL, &sent[0].id).await.advanced);
    assert_eq!(watermarks(&mut client, &group.id, CAROL).await, (1, 1));
}

#[tokio::test]
async fn only_members_mark_messages() {
    let mut client = spawn_chat().await;
    let group = create_group(&mut client, ALICE, &[BOB]).await;
    let message = send(&mut client, ALICE, &group.id, "members only").await;

    let refused = client.mark_delivered(receipt(DAVE, &message.id)).await;
    assert_refused(refused, Code::PermissionDenied, "not_a_member");
    let refused = client.mark_read(receipt(DAVE, &message.id)).await;
    assert_refused(refused, Code::PermissionDenied, "not_a_member");

    let unknown = uuid::Uuid::new_v4().to_string();
    let refused = client.mark_read(receipt(BOB, &unknown)).await;
    assert_refused(refused, Code::NotFound, "message_not_found");
    let refused = client.mark_delivered(receipt(BOB, "not-a-uuid")).await;
    assert_refused(refused, Code::NotFound, "message_not_found");
    assert_eq!(watermarks(&mut client, &group.id, BOB).await, (0, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_receipt_is_taken_from_a_member_once_they_are_removed() {
    let mut client = spawn_chat().await;
    let group = create_group(&mut client, ALICE, &[BOB]).await;
    let start = crate::helpers::settle(&mut client).await;
    let mut sent = Vec::new();
    for n in 0..240 {
        sent.push(
            send(&mut client, ALICE, &group.id, &format!("{n}"))
                .await
                .id,
        );
    }
    let sent = std::sync::Arc::new(sent);

    // Bob's devices acknowledge one message after another while Alice removes him.
    let mut tasks = tokio::task::JoinSet::new();
    for device in 0..8 {
        let mut client = client.clone();
        let sent = sent.clone();
        tasks.spawn(async move {
            for message in sent.iter().skip(device).step_by(8) {
                if let Err(status) = client.mark_delivered(receipt(BOB, message)).await {
                    assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
                    return;
                }
            }
            panic!("Bob was not removed while his devices were acknowledging");
        });
    }
    while watermarks(&mut client, &group.id, BOB).await.0 < 40 {
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
    client
        .leave_group(chat_proto::chat::MembershipRequest {
            actor_id: ALICE.into(),
            conversation_id: group.id.clone(),
            user_id: BOB.into(),
        })
        .await
        .expect("remove Bob");
    tasks.join_all().await;

    use chat_proto::chat::conversation_event::Kind;
    let feed = crate::helpers::catch_up(&mut client, ALICE, start).await;
    let removed = feed
        .iter()
        .position(|e| matches!(&e.kind, Some(Kind::MemberLeft(m)) if m.user_id == BOB))
        .expect("Bob's removal is in the feed");
    let late: Vec<_> = feed[removed..]
        .iter()
        .filter(|e| matches!(&e.kind, Some(Kind::Delivered(r)) if r.user_id == BOB))
        .collect();
    assert!(late.is_empty(), "taken after Bob was removed: {late:?}");
}
