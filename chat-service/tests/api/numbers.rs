//! Conversations named by number: reading one and its history by `number` when
//! `conversation_id` is empty, and messages that carry the sender's and conversation's numbers.

use chat_proto::chat::{GetConversationRequest, ListMessagesRequest, SendMessageRequest};
use tonic::Code;

use crate::helpers::{ALICE, BOB, CAROL, assert_refused, create_group, send_request, spawn_chat};

#[tokio::test]
async fn a_conversation_and_its_history_are_read_by_number() {
    let mut client = spawn_chat().await;
    let group = create_group(&mut client, ALICE, &[BOB]).await;
    let sent = client
        .send_message(SendMessageRequest {
            sender_number: 12,
            ..send_request(BOB, &group.id, "Привет")
        })
        .await
        .expect("send")
        .into_inner()
        .message
        .expect("the stored message");
    assert_eq!(
        (sent.sender_number, sent.conversation_number),
        (12, group.number)
    );

    let by_number = GetConversationRequest {
        user_id: ALICE.into(),
        number: group.number,
        ..Default::default()
    };
    let found = client
        .get_conversation(by_number.clone())
        .await
        .expect("found by number")
        .into_inner();
    assert_eq!(found.id, group.id);
    let page = client
        .list_messages(ListMessagesRequest {
            user_id: ALICE.into(),
            number: group.number,
            ..Default::default()
        })
        .await
        .expect("history by number")
        .into_inner();
    assert_eq!(page.messages, [sent]);

    // Membership is checked as for ids, and an unknown number is not found.
    let stranger = GetConversationRequest {
        user_id: CAROL.into(),
        ..by_number.clone()
    };
    let refused = client.get_conversation(stranger).await;
    assert_refused(refused, Code::PermissionDenied, "not_a_member");
    let unknown = GetConversationRequest {
        number: group.number + 1000,
        ..by_number
    };
    let refused = client.get_conversation(unknown).await;
    assert_refused(refused, Code::NotFound, "conversation_not_found");
    let refused = client
        .send_message(SendMessageRequest {
            sender_number: -1,
            ..send_request(BOB, &group.id, "no")
        })
        .await;
    assert_refused(refused, Code::InvalidArgument, "validation_failed");
}
