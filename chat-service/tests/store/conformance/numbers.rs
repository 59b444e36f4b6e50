//! Numbers: a conversation is found by its number, and a message carries its sender's and its
//! conversation's numbers wherever it is read — send, retry, history, receipts, the event log.

use chat_proto::chat::Message;
use chat_proto::chat::conversation_event::Kind;
use chat_service::store::{ChatStore, MessageRange, NewGroup, NewMessage, ReceiptKind};
use uuid::Uuid;

use super::logged::{Log, kinds};
use super::{ALICE, BOB, CAROL, id, message};

async fn numbered_group<S: ChatStore>(store: &S, creator: Uuid, members: &[Uuid]) -> (Uuid, i64) {
    let created = store
        .create_group(NewGroup {
            creator,
            name: "Numbered".into(),
            members: members.to_vec(),
            is_public: false,
            external_id: None,
        })
        .await
        .expect("create a group");
    (id(&created.id), created.number)
}

fn numbered(sender: Uuid, sender_number: i64, conversation: Uuid, body: &str) -> NewMessage {
    NewMessage {
        sender_number,
        client_message_id: Some(format!("{sender}:{body}")),
        ..message(sender, conversation, body)
    }
}

fn numbers(messages: &[Message]) -> Vec<(i64, i64)> {
    messages
        .iter()
        .map(|m| (m.sender_number, m.conversation_number))
        .collect()
}

pub async fn conversations_are_found_by_number<S: ChatStore>(store: S) {
    let (first, first_number) = numbered_group(&store, ALICE, &[BOB]).await;
    let (second, second_number) = numbered_group(&store, CAROL, &[]).await;
    assert!(first_number > 0 && second_number > first_number);
    let found = store.conversation_by_number(first_number).await;
    assert_eq!(found.expect("look up"), Some(first));
    let found = store.conversation_by_number(second_number).await;
    assert_eq!(found.expect("look up"), Some(second));
    for unknown in [second_number + 1000, 0, -1] {
        let found = store.conversation_by_number(unknown).await;
        assert_eq!(found.expect("look up"), None, "number {unknown}");
    }
}

pub async fn messages_carry_sender_and_conversation_numbers<S: ChatStore>(store: S) {
    let (team, team_number) = numbered_group(&store, ALICE, &[BOB]).await;
    let sent = store
        .send_message(numbered(ALICE, 7, team, "Привет"))
        .await
        .expect("send");
    let first = sent.message.expect("the stored message");
    assert_eq!(numbers(std::slice::from_ref(&first)), [(7, team_number)]);
    let retry = store
        .send_message(numbered(ALICE, 7, team, "Привет"))
        .await
        .expect("retry");
    assert!(retry.duplicate);
    assert_eq!(retry.message.as_ref(), Some(&first));
    let reply = store
        .send_message(numbered(BOB, 8, team, "И тебе привет"))
        .await
        .expect("send")
        .message
        .expect("the stored message");
    assert_eq!(numbers(std::slice::from_ref(&reply)), [(8, team_number)]);

    let range = MessageRange {
        limit: 100,
        ..MessageRange::default()
    };
    let history = store
        .list_messages(BOB, team, range)
        .await
        .expect("history");
    assert_eq!(history.messages, [first.clone(), reply.clone()]);
    let marked = store
        .mark(ALICE, id(&reply.id), ReceiptKind::Read)
        .await
        .expect("mark read");
    assert_eq!(marked.message, Some(reply.clone()));
    let mut log = Log::new(&store).await;
    let replayed: Vec<Message> = kinds(&log.of(BOB).await)
        .into_iter()
        .filter_map(|kind| match kind {
            Kind::Message(message) => Some(message),
            _ => None,
        })
        .collect();
    assert_eq!(numbers(&replayed), [(7, team_number), (8, team_number)]);
}
