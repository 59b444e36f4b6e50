//! Catch-up: one time-ordered feed per user of group creation, membership changes, messages and
//! the receipts others gave to the user's messages, read in cursor pages.

use chat_proto::chat::conversation_event::Kind;
use chat_proto::chat::{ConversationEvent, GroupCreated, MemberChanged, Message, Receipt};
use chat_service::feed::decode_cursor;
use chat_service::store::{ChatStore, NewGroup, ReceiptKind};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{ALICE, BOB, CAROL, DAVE, group, id, ids, send, tick};

pub(super) fn epoch() -> DateTime<Utc> {
    DateTime::<Utc>::UNIX_EPOCH
}

/// The whole feed since `since`, read `limit` events at a time.
pub(super) async fn feed<S: ChatStore>(
    store: &S,
    user: Uuid,
    since: DateTime<Utc>,
    limit: u32,
) -> Vec<ConversationEvent> {
    let mut events = Vec::new();
    let mut cursor = None;
    loop {
        let page = store
            .catch_up(user, since, cursor, limit)
            .await
            .expect("catch up");
        assert!(page.events.len() <= limit as usize, "{page:?}");
        events.extend(page.events);
        if page.next_cursor.is_empty() {
            return events;
        }
        cursor = Some(decode_cursor(&page.next_cursor).expect("a cursor the store made"));
    }
}

pub(super) fn kinds(events: &[ConversationEvent]) -> Vec<Kind> {
    events.iter().filter_map(|e| e.kind.clone()).collect()
}

fn change(user: Uuid, actor: Uuid) -> MemberChanged {
    MemberChanged {
        user_id: user.to_string(),
        actor_id: actor.to_string(),
    }
}

pub(super) fn receipt(message: &Message, user: Uuid) -> Receipt {
    Receipt {
        message_id: message.id.clone(),
        seq: message.seq,
        user_id: user.to_string(),
        sender_id: message.sender_id.clone(),
    }
}

pub async fn catch_up_replays_group_creation_memberships_and_messages<S: ChatStore>(store: S) {
    let team = group(&store, ALICE, &[BOB], false).await;
    tick().await;
    store
        .join_group(ALICE, team, CAROL)
        .await
        .expect("add carol");
    tick().await;
    let first = send(&store, ALICE, team, "one").await;
    let second = send(&store, BOB, team, "two").await;
    tick().await;
    store.leave_group(BOB, team, BOB).await.expect("bob leaves");
    let events = feed(&store, ALICE, epoch(), 1000).await;
    assert_eq!(
        kinds(&events),
        vec![
            // A group-created event names the group's members as it was created.
            Kind::GroupCreated(GroupCreated {
                name: "Team".into(),
                owner_id: ALICE.to_string(),
                member_ids: ids(&[ALICE, BOB]),
            }),
            Kind::MemberJoined(change(CAROL, ALICE)),
            Kind::Message(first.clone()),
            Kind::Message(second.clone()),
            Kind::MemberLeft(change(BOB, BOB)),
        ]
    );
    assert!(events.iter().all(|e| e.conversation_id == team.to_string()));
    assert!(events.windows(2).all(|w| w[0].at_ms <= w[1].at_ms));
    assert_eq!(events[2].at_ms, first.created_at_ms);
    // `since` leaves out what came before it; other users' feeds hold only their groups.
    let since = DateTime::<Utc>::from_timestamp_millis(first.created_at_ms).expect("a time");
    let later = kinds(&feed(&store, ALICE, since, 1000).await);
    assert_eq!(later[0], Kind::Message(first));
    assert_eq!(later.len(), 3);
    assert!(feed(&store, DAVE, epoch(), 1000).await.is_empty());
}

/// Members come and go after a group is created; its group-created event keeps showing it as
/// it was created, to those who were there and to those who came later.
pub async fn catch_up_shows_a_group_as_it_was_created<S: ChatStore>(store: S) {
    let created = store
        .create_group(NewGroup {
            creator: BOB,
            name: "Climbing".into(),
            members: vec![CAROL, ALICE, CAROL],
            is_public: false,
        })
        .await
        .expect("create a group");
    let team = id(&created.id);
    tick().await;
    store.join_group(ALICE, team, DAVE).await.expect("add dave");
    store
        .leave_group(BOB, team, CAROL)
        .await
        .expect("remove carol");
    store
        .leave_group(ALICE, team, ALICE)
        .await
        .expect("alice leaves");
    let as_created = Kind::GroupCreated(GroupCreated {
        name: "Climbing".into(),
        owner_id: BOB.to_string(),
        member_ids: created.members.iter().map(|m| m.user_id.clone()).collect(),
    });
    assert_eq!(created.members.len(), 3, "{created:?}");
    for user in [ALICE, BOB, CAROL, DAVE] {
        let events = kinds(&feed(&store, user, epoch(), 1000).await);
        assert_eq!(
            events.first(),
            Some(&as_created),
            "{user}'s feed: {events:?}"
        );
    }
}

pub async fn catch_up_pages_return_every_event_once_in_order<S: ChatStore>(store: S) {
    let team = group(&store, ALICE, &[BOB], false).await;
    let other = group(&store, BOB, &[ALICE], true).await;
    let mut sent = Vec::new();
    for n in 0..12 {
        let (sender, conversation) = if n % 2 == 0 {
            (ALICE, team)
        } else {
            (BOB, other)
        };
        sent.push(send(&store, sender, conversation, &format!("{n}")).await);
        match n {
            0 => {
                let first = id(&sent[0].id);
                store
                    .mark(BOB, first, ReceiptKind::Read)
                    .await
                    .expect("read");
            }
            4 => {
                store
                    .join_group(ALICE, team, CAROL)
                    .await
                    .expect("add carol");
            }
            _ => {}
        }
        if n % 4 == 0 {
            tick().await;
        }
    }
    store
        .mark(BOB, id(&sent[10].id), ReceiptKind::Read)
        .await
        .expect("read");
    let whole = store
        .catch_up(ALICE, epoch(), None, 1000)
        .await
        .expect("catch up");
    assert!(whole.next_cursor.is_empty());
    assert!(whole.events.len() > 15, "{whole:?}");
    for limit in [1, 4, 7] {
        assert_eq!(
            feed(&store, ALICE, epoch(), limit).await,
            whole.events,
            "pages of {limit}"
        );
    }
    let messages: Vec<Message> = kinds(&whole.events)
        .into_iter()
        .filter_map(|k| match k {
            Kind::Message(m) => Some(m),
            _ => None,
        })
        .collect();
    assert_eq!(messages, sent, "every message once, in the order sent");
}

pub async fn catch_up_of_a_former_member_stops_at_their_leave<S: ChatStore>(store: S) {
    let team = group(&store, ALICE, &[BOB], false).await;
    let before = send(&store, ALICE, team, "before").await;
    tick().await;
    store.leave_group(BOB, team, BOB).await.expect("bob leaves");
    tick().await;
    let after = send(&store, ALICE, team, "after").await;
    store
        .join_group(ALICE, team, CAROL)
        .await
        .expect("add carol");
    store
        .mark(CAROL, id(&after.id), ReceiptKind::Read)
        .await
        .expect("read");
    let events = kinds(&feed(&store, BOB, epoch(), 2).await);
    assert_eq!(
        events,
        vec![
            // The group as Bob met it: without Carol, who came after he left.
            Kind::GroupCreated(GroupCreated {
                name: "Team".into(),
                owner_id: ALICE.to_string(),
                member_ids: ids(&[ALICE, BOB]),
            }),
            Kind::Message(before),
            Kind::MemberLeft(change(BOB, BOB)),
        ]
    );
    let since = DateTime::<Utc>::from_timestamp_millis(after.created_at_ms).expect("a time");
    assert!(feed(&store, BOB, since, 10).await.is_empty());
    assert_eq!(feed(&store, ALICE, since, 10).await.len(), 4);
}
