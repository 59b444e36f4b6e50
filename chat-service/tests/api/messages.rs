//! Sending: per-conversation seq, membership checks, idempotent retries, validation.

use std::collections::HashSet;

use chat_proto::chat::conversation_event::Kind;
use chat_proto::chat::{GetConversationRequest, ListMessagesRequest, SendMessageRequest};
use tokio::task::JoinSet;
use tonic::Code;

use crate::helpers::{
    ALICE, BOB, CAROL, Client, DAVE, assert_refused, create_group, list_messages, send,
    send_request, spawn_chat,
};

fn with_client_id(sender: &str, conversation: &str, body: &str, id: &str) -> SendMessageRequest {
    SendMessageRequest {
        client_message_id: id.into(),
        ..send_request(sender, conversation, body)
    }
}

fn history(user: &str, conversation: &str) -> ListMessagesRequest {
    ListMessagesRequest {
        user_id: user.into(),
        conversation_id: conversation.into(),
        limit: 100,
        ..Default::default()
    }
}

async fn last_seq(client: &mut Client, conversation: &str) -> i64 {
    client
        .get_conversation(GetConversationRequest {
            user_id: ALICE.into(),
            conversation_id: conversation.into(),
            ..Default::default()
        })
        .await
        .expect("get the conversation")
        .into_inner()
        .last_seq
}

#[tokio::test]
async fn sends_are_numbered_from_one_and_name_who_to_fan_out_to() {
    let mut client = spawn_chat().await;
    let group = create_group(&mut client, ALICE, &[BOB]).await;

    let mut seqs = Vec::new();
    for (sender, body) in [(ALICE, "hi"), (BOB, "hello"), (ALICE, "how are you?")] {
        let sent = client
            .send_message(SendMessageRequest {
                signature: "sig".into(),
                ..send_request(sender, &group.id, body)
            })
            .await
            .expect("send")
            .into_inner();
        assert!(!sent.duplicate);
        assert_eq!(sent.member_ids, [ALICE, BOB]);
        let message = sent.message.expect("the message");
        assert_eq!(message.sender_id, sender);
        assert_eq!(message.body, body);
        assert_eq!(message.conversation_id, group.id);
        assert_eq!(message.signature, "sig");
        assert!(message.created_at_ms >= group.created_at_ms);
        seqs.push(message.seq);
    }

    assert_eq!(seqs, [1, 2, 3]);
    assert_eq!(last_seq(&mut client, &group.id).await, 3);
    let other = create_group(&mut client, ALICE, &[]).await;
    assert_eq!(
        send(&mut client, ALICE, &other.id, "own count").await.seq,
        1
    );
}

#[tokio::test]
async fn non_members_cannot_send_read_or_look() {
    let mut client = spawn_chat().await;
    let group = create_group(&mut client, ALICE, &[BOB]).await;
    send(&mut client, ALICE, &group.id, "members only").await;
    client
        .leave_group(chat_proto::chat::MembershipRequest {
            actor_id: BOB.into(),
            conversation_id: group.id.clone(),
            user_id: BOB.into(),
        })
        .await
        .expect("leave");

    for outsider in [DAVE, BOB] {
        let refused = client
            .send_message(send_request(outsider, &group.id, "let me in"))
            .await;
        assert_refused(refused, Code::PermissionDenied, "not_a_member");
        let refused = client.list_messages(history(outsider, &group.id)).await;
        assert_refused(refused, Code::PermissionDenied, "not_a_member");
        let refused = client
            .get_conversation(GetConversationRequest {
                user_id: outsider.into(),
                conversation_id: group.id.clone(),
                ..Default::default()
            })
            .await;
        assert_refused(refused, Code::PermissionDenied, "not_a_member");
    }
    assert_eq!(last_seq(&mut client, &group.id).await, 1);
}

#[tokio::test]
async fn a_retried_client_message_id_gets_the_original_acknowledgement() {
    let mut client = spawn_chat().await;
    let group = create_group(&mut client, ALICE, &[BOB]).await;

    let first = client
        .send_message(with_client_id(ALICE, &group.id, "once", "c-1"))
        .await
        .expect("send")
        .into_inner();
    let retry = client
        .send_message(with_client_id(ALICE, &group.id, "once, again", "c-1"))
        .await
        .expect("retry")
        .into_inner();

    assert!(!first.duplicate);
    assert!(retry.duplicate);
    assert_eq!(retry.message, first.message);
    assert_eq!(retry.member_ids, [ALICE, BOB]);
    let original = first.message.expect("the message");
    assert_eq!(original.client_message_id, "c-1");
    let (seqs, _) = list_messages(&mut client, history(BOB, &group.id)).await;
    assert_eq!(seqs, [1]);
    // The client id is the sender's own: Bob's "c-1" is another message, and no seq was lost.
    let bobs = client
        .send_message(with_client_id(BOB, &group.id, "mine", "c-1"))
        .await
        .expect("send")
        .into_inner();
    assert!(!bobs.duplicate);
    assert_eq!(bobs.message.expect("the message").seq, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_senders_get_contiguous_seqs() {
    let mut client = spawn_chat().await;
    let group = create_group(&mut client, ALICE, &[BOB, CAROL]).await;
    let senders = [ALICE, BOB, CAROL];

    let mut tasks = JoinSet::new();
    for task in 0..8 {
        let mut client = client.clone();
        let group = group.id.clone();
        let sender = senders[task % senders.len()];
        tasks.spawn(async move {
            let mut seqs = Vec::new();
            for n in 0..25 {
                let body = format!("task {task} message {n}");
                seqs.push(send(&mut client, sender, &group, &body).await.seq);
            }
            seqs
        });
    }
    let mut seqs = Vec::new();
    for (task, each) in tasks.join_all().await.into_iter().enumerate() {
        assert!(
            each.is_sorted(),
            "task {task} saw its seqs go back: {each:?}"
        );
        seqs.extend(each);
    }

    seqs.sort();
    assert_eq!(seqs, (1..=200).collect::<Vec<i64>>());
    assert_eq!(last_seq(&mut client, &group.id).await, 200);
    let (older, _) = list_messages(
        &mut client,
        ListMessagesRequest {
            before_seq: 101,
            ..history(BOB, &group.id)
        },
    )
    .await;
    let (newer, more) = list_messages(
        &mut client,
        ListMessagesRequest {
            after_seq: 100,
            ..history(BOB, &group.id)
        },
    )
    .await;
    assert!(!more);
    assert_eq!([older, newer].concat(), (1..=200).collect::<Vec<i64>>());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_retries_of_one_client_message_id_store_one_message() {
    let mut client = spawn_chat().await;
    let group = create_group(&mut client, ALICE, &[BOB]).await;

    let mut tasks = JoinSet::new();
    for _ in 0..10 {
        let mut client = client.clone();
        let request = with_client_id(ALICE, &group.id, "exactly once", "retry-me");
        tasks.spawn(async move {
            client
                .send_message(request)
                .await
                .expect("send")
                .into_inner()
        });
    }
    let answers = tasks.join_all().await;

    let ids: HashSet<&str> = answers
        .iter()
        .map(|a| a.message.as_ref().expect("the message").id.as_str())
        .collect();
    assert_eq!(ids.len(), 1, "every retry names the same message");
    assert_eq!(answers.iter().filter(|a| !a.duplicate).count(), 1);
    assert!(answers.iter().all(|a| a.message.as_ref().unwrap().seq == 1));
    let (seqs, _) = list_messages(&mut client, history(BOB, &group.id)).await;
    assert_eq!(seqs, [1]);
    assert_eq!(last_seq(&mut client, &group.id).await, 1);
}

#[tokio::test]
async fn invalid_messages_are_refused_and_change_nothing() {
    let mut client = spawn_chat().await;
    let group = create_group(&mut client, ALICE, &[BOB]).await;

    let too_long = "x".repeat(32 * 1024 + 1);
    let long_id = "i".repeat(129);
    let invalid = [
        send_request(ALICE, &group.id, ""),
        send_request(ALICE, &group.id, &too_long),
        send_request(ALICE, &group.id, "nul \0 inside"),
        with_client_id(ALICE, &group.id, "body", &long_id),
        with_client_id(ALICE, &group.id, "body", "nul \0 inside"),
        SendMessageRequest {
            signature: "nul \0 inside".into(),
            ..send_request(ALICE, &group.id, "body")
        },
    ];
    for request in invalid {
        let refused = client.send_message(request).await;
        assert_refused(refused, Code::InvalidArgument, "validation_failed");
    }
    assert_eq!(last_seq(&mut client, &group.id).await, 0);

    let largest = "é".repeat(16 * 1024);
    let stored = send(&mut client, ALICE, &group.id, &largest).await;
    assert_eq!(stored.seq, 1);
    assert_eq!(stored.body.len(), 32 * 1024);
}

#[tokio::test]
async fn a_malformed_conversation_id_is_not_found() {
    let mut client = spawn_chat().await;

    let refused = client
        .send_message(send_request(ALICE, "not-a-uuid", "hi"))
        .await;
    assert_refused(refused, Code::NotFound, "conversation_not_found");
    let refused = client.list_messages(history(ALICE, "not-a-uuid")).await;
    assert_refused(refused, Code::NotFound, "conversation_not_found");
    let refused = client
        .get_conversation(GetConversationRequest {
            user_id: ALICE.into(),
            conversation_id: "not-a-uuid".into(),
            ..Default::default()
        })
        .await;
    assert_refused(refused, Code::NotFound, "conversation_not_found");
    let refused = client
        .send_message(send_request(ALICE, &uuid::Uuid::new_v4().to_string(), "hi"))
        .await;
    assert_refused(refused, Code::NotFound, "conversation_not_found");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_is_stored_from_a_sender_once_they_are_removed() {
    let mut client = spawn_chat().await;
    let group = create_group(&mut client, ALICE, &[BOB]).await;
    let start = crate::helpers::settle(&mut client).await;

    // Bob keeps sending from several devices while Alice removes him.
    let mut tasks = JoinSet::new();
    for device in 0..8 {
        let mut client = client.clone();
        let group = group.id.clone();
        tasks.spawn(async move {
            let mut acknowledged = 0;
            for n in 0.. {
                let body = format!("device {device} message {n}");
                match client.send_message(send_request(BOB, &group, &body)).await {
                    Ok(_) => acknowledged += 1,
                    Err(status) => {
                        assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
                        break;
                    }
                }
            }
            acknowledged
        });
    }
    while last_seq(&mut client, &group.id).await < 20 {
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
    let acknowledged: usize = tasks.join_all().await.into_iter().sum();

    let feed = crate::helpers::catch_up(&mut client, ALICE, start).await;
    let removed = feed
        .iter()
        .position(|e| matches!(&e.kind, Some(Kind::MemberLeft(m)) if m.user_id == BOB))
        .expect("Bob's removal is in the feed");
    let from_bob = |e: &&chat_proto::chat::ConversationEvent| matches!(&e.kind, Some(Kind::Message(m)) if m.sender_id == BOB);
    assert!(acknowledged > 0, "Bob sent before he was removed");
    assert_eq!(feed.iter().filter(from_bob).count(), acknowledged);
    let late: Vec<_> = feed[removed..].iter().filter(from_bob).collect();
    assert!(late.is_empty(), "stored after Bob was removed: {late:?}");
}
