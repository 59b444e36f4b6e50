//! Direct conversations (one per pair of users, whoever asks first, even when both race) and
//! the latest message of each of a user's conversations.

use std::sync::Arc;

use chat_proto::chat::{ConversationKind, LatestMessageList};
use chat_service::error::ChatError;
use chat_service::store::ChatStore;
use uuid::Uuid;

use super::{ALICE, BOB, CAROL, DAVE, group, id, ids, member_ids, refused, send, tick};

async fn direct<S: ChatStore>(store: &S, user: Uuid, peer: Uuid) -> Uuid {
    let found = store.direct_conversation(user, peer, true).await;
    id(&found.expect("get or create").expect("created").id)
}

pub async fn a_direct_conversation_is_one_per_pair<S: ChatStore>(store: S) {
    let none = store.direct_conversation(ALICE, BOB, false).await;
    assert!(none.expect("look up").is_none());
    let created = store.direct_conversation(ALICE, BOB, true).await;
    let created = created.expect("create").expect("created");
    assert_eq!(created.kind, ConversationKind::Direct as i32);
    assert!(
        created.number > 0 && created.owner_id.is_empty(),
        "{created:?}"
    );
    let mut members = member_ids(&created);
    members.sort();
    assert_eq!(members, ids(&[ALICE, BOB]));
    assert!(created.members.iter().all(|m| m.role == "member"));

    // The same conversation whoever asks, with or without `create`.
    for (user, peer, create) in [(BOB, ALICE, true), (ALICE, BOB, false), (BOB, ALICE, false)] {
        let found = store.direct_conversation(user, peer, create).await;
        assert_eq!(
            found.expect("look up").map(|c| c.id),
            Some(created.id.clone())
        );
    }
    let other = direct(&store, ALICE, CAROL).await;
    assert_ne!(other.to_string(), created.id);

    // It takes messages from its members, says it is direct, and is no group to join.
    let conversation = id(&created.id);
    let sent = store
        .send_message(super::message(BOB, conversation, "hi"))
        .await
        .expect("send");
    assert_eq!(sent.conversation_kind, ConversationKind::Direct as i32);
    assert_eq!(sent.member_ids.len(), 2);
    let stranger = store
        .send_message(super::message(CAROL, conversation, "me too"))
        .await;
    assert!(matches!(refused(stranger), ChatError::NotAMember));
    let join = store.join_group(ALICE, conversation, CAROL).await;
    assert!(matches!(refused(join), ChatError::WrongKind(_)));
    let team = group(&store, ALICE, &[BOB], false).await;
    let sent = store.send_message(super::message(BOB, team, "team")).await;
    assert_eq!(
        sent.expect("send").conversation_kind,
        ConversationKind::Group as i32
    );
}

/// A user's bot conversation with a bot is one per pair, of kind bot, and apart from their
/// direct conversation.
pub async fn a_bot_conversation_is_one_per_pair_apart_from_the_direct_one<S: ChatStore>(store: S) {
    let none = store.bot_conversation(ALICE, BOB, false).await;
    assert!(none.expect("look up").is_none());
    let created = store.bot_conversation(ALICE, BOB, true).await;
    let created = created.expect("create").expect("created");
    assert_eq!(created.kind, ConversationKind::Bot as i32);
    let mut members = member_ids(&created);
    members.sort();
    assert_eq!(members, ids(&[ALICE, BOB]));
    let again = store.bot_conversation(ALICE, BOB, true).await;
    assert_eq!(
        again.expect("look up").map(|c| c.id),
        Some(created.id.clone())
    );
    let with_carol = store.bot_conversation(CAROL, BOB, true).await;
    assert_ne!(with_carol.expect("create").expect("created").id, created.id);
    let direct = direct(&store, ALICE, BOB).await;
    assert_ne!(direct.to_string(), created.id);

    // Both members write in it; it says it is a bot conversation.
    let conversation = id(&created.id);
    let asked = store
        .send_message(super::message(ALICE, conversation, "help"))
        .await
        .expect("send");
    assert_eq!(asked.conversation_kind, ConversationKind::Bot as i32);
    store
        .send_message(super::message(BOB, conversation, "I can help"))
        .await
        .expect("answer");
    let stranger = store
        .send_message(super::message(CAROL, conversation, "me too"))
        .await;
    assert!(matches!(refused(stranger), ChatError::NotAMember));
}

pub async fn racing_creators_of_a_direct_conversation_get_one<S: ChatStore>(store: S) {
    let store = Arc::new(store);
    let mut tasks = tokio::task::JoinSet::new();
    for attempt in 0..8 {
        let store = store.clone();
        let (user, peer) = if attempt % 2 == 0 {
            (ALICE, BOB)
        } else {
            (BOB, ALICE)
        };
        tasks.spawn(async move { direct(&*store, user, peer).await });
    }
    let mut found = Vec::new();
    while let Some(id) = tasks.join_next().await {
        found.push(id.expect("the task finishes"));
    }
    found.dedup();
    assert_eq!(found.len(), 1, "{found:?}");
    let conversation = store.get_conversation(ALICE, found[0]).await;
    assert_eq!(conversation.expect("read").members.len(), 2);
}

fn bodies(list: &LatestMessageList) -> Vec<&str> {
    list.items
        .iter()
        .map(|item| item.message.as_ref().map_or("", |m| m.body.as_str()))
        .collect()
}

pub async fn latest_messages_show_each_conversation_once_newest_first<S: ChatStore>(store: S) {
    let team = group(&store, ALICE, &[BOB, CAROL], false).await;
    let with_bob = direct(&store, ALICE, BOB).await;
    let quiet = group(&store, ALICE, &[BOB], false).await;
    let left = group(&store, BOB, &[ALICE], false).await;
    let theirs = direct(&store, BOB, DAVE).await;
    for (sender, conversation, body) in [
        (ALICE, team, "team 1"),
        (BOB, with_bob, "direct 1"),
        (BOB, left, "left 1"),
        (CAROL, team, "team 2"),
        (DAVE, theirs, "not hers"),
        (ALICE, with_bob, "direct 2"),
    ] {
        send(&store, sender, conversation, body).await;
        tick().await;
    }
    store.leave_group(ALICE, left, ALICE).await.expect("leave");

    let list = store.latest_messages(ALICE, 20, 0).await.expect("list");
    assert_eq!(bodies(&list), ["direct 2", "team 2"]);
    assert!(!list.has_more);
    let direct_item = list.items[0].conversation.as_ref().expect("conversation");
    assert_eq!(direct_item.id, with_bob.to_string());
    assert_eq!(direct_item.kind, ConversationKind::Direct as i32);
    assert_eq!(
        direct_item.members.len(),
        2,
        "a direct one lists its members"
    );
    let team_item = list.items[1].conversation.as_ref().expect("conversation");
    assert_eq!(
        (team_item.id.as_str(), team_item.name.as_str()),
        (team.to_string().as_str(), "Team")
    );
    assert!(
        team_item.members.is_empty(),
        "a group's members are not listed"
    );
    let latest = list.items[1].message.as_ref().expect("message");
    assert_eq!(
        (latest.seq, latest.sender_id.as_str()),
        (2, CAROL.to_string().as_str())
    );

    // Pages.
    let first = store.latest_messages(ALICE, 1, 0).await.expect("list");
    assert_eq!((bodies(&first), first.has_more), (vec!["direct 2"], true));
    let second = store.latest_messages(ALICE, 1, 1).await.expect("list");
    assert_eq!((bodies(&second), second.has_more), (vec!["team 2"], false));
    let beyond = store.latest_messages(ALICE, 1, 2).await.expect("list");
    assert!(beyond.items.is_empty() && !beyond.has_more);

    // A new message moves its conversation to the front; a quiet group never shows.
    send(&store, BOB, quiet, "at last").await;
    let list = store.latest_messages(BOB, 20, 0).await.expect("list");
    assert_eq!(
        bodies(&list),
        ["at last", "direct 2", "not hers", "team 2", "left 1"]
    );
}
