//! Catch-up: one time-ordered feed of everything that happened in a user's conversations.

use chat_proto::chat::conversation_event::Kind;
use chat_proto::chat::{CatchUpRequest, ConversationEvent, MembershipRequest, ReceiptRequest};
use tonic::Code;

use crate::helpers::{
    ALICE, BOB, CAROL, Client, DAVE, assert_refused, catch_up, create_group, now_ms, send,
    spawn_chat, tick,
};

fn name(user: &str) -> &'static str {
    match user {
        ALICE => "alice",
        BOB => "bob",
        CAROL => "carol",
        DAVE => "dave",
        _ => "someone else",
    }
}

/// One line per event, so that a feed compares as a readable list.
fn summary(event: &ConversationEvent) -> String {
    match event.kind.as_ref().expect("an event kind") {
        Kind::GroupCreated(g) => {
            let members: Vec<_> = g.member_ids.iter().map(|m| name(m)).collect();
            format!(
                "created {} by {} with {}",
                g.name,
                name(&g.owner_id),
                members.join(",")
            )
        }
        Kind::Message(m) => format!("{} #{}: {}", name(&m.sender_id), m.seq, m.body),
        Kind::MemberJoined(c) => format!("{} added by {}", name(&c.user_id), name(&c.actor_id)),
        Kind::MemberLeft(c) => format!("{} removed by {}", name(&c.user_id), name(&c.actor_id)),
        Kind::Delivered(r) => format!(
            "{} got {}'s #{}",
            name(&r.user_id),
            name(&r.sender_id),
            r.seq
        ),
        Kind::Read(r) => format!(
            "{} read {}'s #{}",
            name(&r.user_id),
            name(&r.sender_id),
            r.seq
        ),
    }
}

fn summaries(events: &[ConversationEvent]) -> Vec<String> {
    events.iter().map(summary).collect()
}

fn membership(actor: &str, conversation: &str, user: &str) -> MembershipRequest {
    MembershipRequest {
        actor_id: actor.into(),
        conversation_id: conversation.into(),
        user_id: user.into(),
    }
}

fn receipt(user: &str, message: &str) -> ReceiptRequest {
    ReceiptRequest {
        user_id: user.into(),
        message_id: message.into(),
    }
}

#[tokio::test]
async fn an_offline_member_catches_up_on_a_new_group_and_its_messages_in_order() {
    let mut client = spawn_chat().await;
    let since = now_ms();
    let group = create_group(&mut client, ALICE, &[BOB]).await;
    for body in ["first", "second", "third"] {
        send(&mut client, ALICE, &group.id, body).await;
    }

    let feed = catch_up(&mut client, BOB, since).await;

    assert_eq!(
        summaries(&feed),
        [
            "created Team by alice with alice,bob",
            "alice #1: first",
            "alice #2: second",
            "alice #3: third",
        ]
    );
    assert!(feed.iter().all(|e| e.conversation_id == group.id));
    assert!(feed.windows(2).all(|w| w[0].at_ms <= w[1].at_ms));
    assert!(feed[0].at_ms >= since);
    assert!(catch_up(&mut client, CAROL, since).await.is_empty());
}

#[tokio::test]
async fn a_sender_catches_up_on_the_receipts_of_their_messages() {
    let mut client = spawn_chat().await;
    let since = now_ms();
    let group = create_group(&mut client, ALICE, &[BOB, CAROL]).await;
    let mut sent = Vec::new();
    for body in ["one", "two", "three"] {
        sent.push(send(&mut client, ALICE, &group.id, body).await);
    }
    client
        .mark_delivered(receipt(BOB, &sent[2].id))
        .await
        .expect("delivered");
    client
        .mark_read(receipt(BOB, &sent[1].id))
        .await
        .expect("read");
    client
        .mark_read(receipt(CAROL, &sent[0].id))
        .await
        .expect("read");

    let feed = catch_up(&mut client, ALICE, since).await;

    assert_eq!(
        summaries(&feed),
        [
            "created Team by alice with alice,bob,carol",
            "alice #1: one",
            "alice #2: two",
            "alice #3: three",
            "bob got alice's #3",
            "bob read alice's #2",
            "carol got alice's #1",
            "carol read alice's #1",
        ]
    );
    let Some(Kind::Read(read)) = &feed[5].kind else {
        panic!("a read receipt")
    };
    assert_eq!(read.message_id, sent[1].id);
    // Receipts go to the sender of the message, not to the other readers.
    assert!(
        !summaries(&catch_up(&mut client, BOB, since).await)
            .iter()
            .any(|s| s.contains(" got ") || s.contains(" read "))
    );
}

/// Two groups with membership changes, messages and receipts.
async fn a_busy_feed(client: &mut Client) {
    let first = create_group(client, ALICE, &[BOB]).await;
    let second = create_group(client, BOB, &[ALICE, CAROL]).await;
    for n in 1..=12 {
        let group = if n % 3 == 0 { &second } else { &first };
        let sender = if n % 2 == 0 { ALICE } else { BOB };
        let message = send(client, sender, &group.id, &format!("message {n}")).await;
        if n % 4 == 0 {
            let reader = if sender == ALICE { BOB } else { ALICE };
            client
                .mark_read(receipt(reader, &message.id))
                .await
                .expect("read");
        }
    }
    client
        .join_group(membership(BOB, &first.id, CAROL))
        .await
        .expect("add Carol");
    client
        .leave_group(membership(CAROL, &second.id, CAROL))
        .await
        .expect("Carol leaves");
    send(client, CAROL, &first.id, "hello from carol").await;
}

#[tokio::test]
async fn small_pages_return_every_event_once_in_the_order_of_one_page() {
    let mut client = spawn_chat().await;
    let since = now_ms();
    a_busy_feed(&mut client).await;
    let whole = catch_up(&mut client, ALICE, since).await;
    assert!(whole.len() > 15, "{:#?}", summaries(&whole));

    for limit in [1, 4, 5, whole.len() as u32] {
        let mut paged = Vec::new();
        let mut cursor = String::new();
        loop {
            let page = client
                .catch_up(CatchUpRequest {
                    user_id: ALICE.into(),
                    since_ms: since,
                    cursor,
                    limit,
                })
                .await
                .expect("a page")
                .into_inner();
            assert!(page.events.len() <= limit as usize);
            paged.extend(page.events);
            if page.next_cursor.is_empty() {
                break;
            }
            cursor = page.next_cursor;
        }
        assert_eq!(summaries(&paged), summaries(&whole), "pages of {limit}");
        assert_eq!(paged, whole, "pages of {limit}");
    }
}

#[tokio::test]
async fn catching_up_since_a_later_time_returns_only_what_came_after() {
    let mut client = spawn_chat().await;
    let since = now_ms();
    let group = create_group(&mut client, ALICE, &[BOB]).await;
    send(&mut client, ALICE, &group.id, "before").await;
    tick().await;
    let later = now_ms();
    tick().await;
    send(&mut client, BOB, &group.id, "after").await;
    client
        .join_group(membership(ALICE, &group.id, CAROL))
        .await
        .expect("add Carol");

    let whole = catch_up(&mut client, ALICE, since).await;
    let recent = catch_up(&mut client, ALICE, later).await;

    assert_eq!(
        summaries(&recent),
        ["bob #2: after", "carol added by alice"]
    );
    assert_eq!(recent, whole[whole.len() - 2..]);
    assert!(recent.iter().all(|e| e.at_ms >= later));
    assert!(
        catch_up(&mut client, ALICE, now_ms() + 60_000)
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn a_member_who_left_catches_up_until_they_left() {
    let mut client = spawn_chat().await;
    let since = now_ms();
    let group = create_group(&mut client, ALICE, &[BOB]).await;
    send(&mut client, ALICE, &group.id, "one").await;
    let bobs = send(&mut client, BOB, &group.id, "bye").await;
    client
        .leave_group(membership(BOB, &group.id, BOB))
        .await
        .expect("Bob leaves");
    // What happens afterwards is none of Bob's business.
    client
        .mark_read(receipt(ALICE, &bobs.id))
        .await
        .expect("read");
    client
        .join_group(membership(ALICE, &group.id, CAROL))
        .await
        .expect("add Carol");
    send(&mut client, CAROL, &group.id, "hi all").await;

    let feed = catch_up(&mut client, BOB, since).await;

    assert_eq!(
        summaries(&feed),
        [
            // The group as Bob knew it, not with Carol, who came after he left.
            "created Team by alice with alice,bob",
            "alice #1: one",
            "bob #2: bye",
            "bob removed by bob",
        ]
    );
    assert_eq!(
        summaries(&catch_up(&mut client, ALICE, since).await)[3..],
        [
            "bob removed by bob",
            "carol added by alice",
            "carol #3: hi all"
        ]
    );
}

#[tokio::test]
async fn an_invalid_cursor_is_refused() {
    let mut client = spawn_chat().await;

    for cursor in ["garbage", "1.2", "a.b.c", "1.2.3.4"] {
        let refused = client
            .catch_up(CatchUpRequest {
                user_id: ALICE.into(),
                since_ms: 0,
                cursor: cursor.into(),
                limit: 0,
            })
            .await;
        assert_refused(refused, Code::InvalidArgument, "validation_failed");
    }
}
