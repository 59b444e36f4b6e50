//! Catch-up: everything that happened in a user's conversations, read from the commit-ordered
//! log after a position (exact) or since a time, in pages.

use chat_proto::chat::{CatchUpRequest, LogHeadRequest};
use tonic::Code;

use crate::events::{membership, positions, receipt, summaries};
use crate::helpers::{
    ALICE, BOB, CAROL, Client, assert_refused, catch_up, create_group, now_ms, send, settle,
    spawn_chat, tick,
};

#[tokio::test]
async fn an_offline_member_catches_up_on_a_new_group_and_its_messages_in_order() {
    let mut client = spawn_chat().await;
    let start = settle(&mut client).await;
    let group = create_group(&mut client, ALICE, &[BOB]).await;
    for body in ["first", "second", "third"] {
        send(&mut client, ALICE, &group.id, body).await;
    }

    let feed = catch_up(&mut client, BOB, start).await;

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
    assert!(positions(&feed).windows(2).all(|w| w[0] < w[1]));
    assert!(feed[0].position > start);
    assert!(catch_up(&mut client, CAROL, 0).await.is_empty());
}

/// Two groups with messages and receipts, and Carol joining one and saying hello.
async fn a_busy_feed(client: &mut Client) -> (String, String) {
    let first = create_group(client, ALICE, &[BOB]).await.id;
    let second = create_group(client, BOB, &[ALICE, CAROL]).await.id;
    messages_and_receipts(client, &first, &second, "a").await;
    client
        .join_group(membership(BOB, &first, CAROL))
        .await
        .expect("add Carol");
    send(client, CAROL, &first, "hello from carol").await;
    (first, second)
}

async fn messages_and_receipts(client: &mut Client, first: &str, second: &str, round: &str) {
    for n in 1..=12 {
        let group = if n % 3 == 0 { second } else { first };
        let sender = if n % 2 == 0 { ALICE } else { BOB };
        let body = format!("message {round}{n}");
        let message = send(client, sender, group, &body).await;
        if n % 4 == 0 {
            let reader = if sender == ALICE { BOB } else { ALICE };
            client
                .mark_read(receipt(reader, &message.id))
                .await
                .expect("read");
        }
    }
}

#[tokio::test]
async fn catching_up_after_a_position_repeats_nothing_and_misses_nothing() {
    let mut client = spawn_chat().await;
    let (first, second) = a_busy_feed(&mut client).await;
    let middle = settle(&mut client).await;
    messages_and_receipts(&mut client, &first, &second, "b").await;

    let whole = catch_up(&mut client, ALICE, 0).await;
    let later = catch_up(&mut client, ALICE, middle).await;
    let earlier = client
        .catch_up(CatchUpRequest {
            user_id: ALICE.into(),
            after_position: Some(0),
            up_to_position: middle,
            ..Default::default()
        })
        .await
        .expect("catch up to the middle")
        .into_inner();

    assert!(earlier.next_cursor.is_empty());
    assert!(earlier.events.iter().all(|e| e.position <= middle));
    assert!(later.iter().all(|e| e.position > middle));
    assert_eq!([earlier.events, later.clone()].concat(), whole);
    assert!(positions(&whole).windows(2).all(|w| w[0] < w[1]));
    let messages = |events: &[_]| {
        summaries(events)
            .iter()
            .filter(|s| s.contains(": "))
            .count()
    };
    assert_eq!(messages(&whole), 25);
    assert_eq!(messages(&later), 12);
    let last = whole.last().expect("events").position;
    assert!(catch_up(&mut client, ALICE, last).await.is_empty());
}

#[tokio::test]
async fn small_pages_return_every_event_once_in_the_order_of_one_page() {
    let mut client = spawn_chat().await;
    a_busy_feed(&mut client).await;
    let whole = catch_up(&mut client, ALICE, 0).await;
    assert!(whole.len() > 15, "{:#?}", summaries(&whole));

    for limit in [1, 4, 5, whole.len() as u32] {
        let mut paged = Vec::new();
        let mut cursor = String::new();
        loop {
            let page = client
                .catch_up(CatchUpRequest {
                    user_id: ALICE.into(),
                    after_position: Some(0),
                    cursor,
                    limit,
                    ..Default::default()
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

/// Catch-up since `since_ms`, in one page.
async fn since(client: &mut Client, user: &str, since_ms: i64) -> Vec<String> {
    settle(client).await;
    let page = client
        .catch_up(CatchUpRequest {
            user_id: user.into(),
            since_ms,
            ..Default::default()
        })
        .await
        .expect("catch up")
        .into_inner();
    assert!(page.next_cursor.is_empty());
    summaries(&page.events)
}

#[tokio::test]
async fn catching_up_since_a_time_returns_what_was_logged_from_then_on() {
    let mut client = spawn_chat().await;
    let group = create_group(&mut client, ALICE, &[BOB]).await;
    send(&mut client, ALICE, &group.id, "before").await;
    settle(&mut client).await;
    tick().await;
    let later = now_ms();
    tick().await;
    send(&mut client, BOB, &group.id, "after").await;
    client
        .join_group(membership(ALICE, &group.id, CAROL))
        .await
        .expect("add Carol");

    assert_eq!(
        since(&mut client, ALICE, later).await,
        ["bob #2: after", "carol added by alice"]
    );
    assert_eq!(since(&mut client, ALICE, 0).await.len(), 4);
    assert!(
        since(&mut client, ALICE, now_ms() + 60_000)
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn an_invalid_cursor_or_position_is_refused() {
    let mut client = spawn_chat().await;
    let request = |cursor: &str, after_position| CatchUpRequest {
        user_id: ALICE.into(),
        cursor: cursor.into(),
        after_position,
        ..Default::default()
    };

    for cursor in ["garbage", "1.2", "p", "p-1", "px", "12"] {
        let refused = client.catch_up(request(cursor, None)).await;
        assert_refused(refused, Code::InvalidArgument, "validation_failed");
    }
    let refused = client.catch_up(request("", Some(-1))).await;
    assert_refused(refused, Code::InvalidArgument, "validation_failed");
    let refused = client
        .catch_up(CatchUpRequest {
            user_id: "alice".into(),
            ..request("", Some(0))
        })
        .await;
    assert_refused(refused, Code::InvalidArgument, "validation_failed");
}

/// 150 messages of 30 KB are 4.5 MB: pages stop short of gRPC's 4 MiB limit, and reading them
/// all returns every message once, in order — by catch-up and by a gap repair's ReadLog.
#[tokio::test]
async fn pages_of_large_messages_stay_under_the_message_size_limit() {
    let mut client = spawn_chat().await;
    let start = settle(&mut client).await;
    let group = create_group(&mut client, ALICE, &[BOB]).await;
    let body = "x".repeat(30_000);
    for _ in 0..150 {
        send(&mut client, ALICE, &group.id, &body).await;
    }
    settle(&mut client).await;
    let first = client
        .catch_up(CatchUpRequest {
            user_id: BOB.into(),
            after_position: Some(start),
            limit: 500,
            ..Default::default()
        })
        .await
        .expect("a page that fits")
        .into_inner();
    assert!(
        first.events.len() < 150 && !first.next_cursor.is_empty(),
        "a page of {} events",
        first.events.len()
    );
    let feed = catch_up(&mut client, BOB, start).await;
    let seqs: Vec<i64> = feed
        .iter()
        .filter_map(|e| match &e.kind {
            Some(chat_proto::chat::conversation_event::Kind::Message(m)) => Some(m.seq),
            _ => None,
        })
        .collect();
    assert_eq!(seqs, (1..=150).collect::<Vec<_>>());

    let mut after = start;
    let mut repaired = 0;
    loop {
        let page = client
            .read_log(chat_proto::chat::ReadLogRequest {
                after_position: after,
                user_ids: vec![BOB.into()],
                limit: 500,
                ..Default::default()
            })
            .await
            .expect("a repair page that fits")
            .into_inner();
        repaired += page.entries.len();
        after = page.entries.last().map_or(after, |e| e.position);
        if !page.has_more {
            break;
        }
    }
    assert_eq!(repaired, 151, "the group's creation and its 150 messages");
}

/// A reconnect storm: thousands of sockets ask for the log's head and catch up at once, over one
/// gateway's channel. Every call is answered — none refused for want of a database connection,
/// and the channel not closed for the many small answers waiting in it at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_storm_of_catch_ups_on_one_channel_is_answered() {
    let mut client = spawn_chat().await;
    let start = settle(&mut client).await;
    let group = create_group(&mut client, ALICE, &[BOB, CAROL]).await;
    for body in ["one", "two", "three"] {
        send(&mut client, ALICE, &group.id, body).await;
    }
    let head = settle(&mut client).await;
    let users = [ALICE, BOB, CAROL];
    let calls = (0..4000).map(|n| {
        let mut client = client.clone();
        async move {
            if n % 2 == 0 {
                let head = client.log_head(LogHeadRequest {}).await?;
                Ok::<_, tonic::Status>((n, head.into_inner().position))
            } else {
                let page = client
                    .catch_up(CatchUpRequest {
                        user_id: users[n % 3].into(),
                        after_position: Some(start),
                        up_to_position: head,
                        limit: 500,
                        ..Default::default()
                    })
                    .await?;
                Ok((n, page.into_inner().events.len() as i64))
            }
        }
    });
    let answers = futures_util::future::join_all(calls).await;
    let mut failed = answers.iter().filter_map(|a| a.as_ref().err()).peekable();
    if let Some(first) = failed.peek() {
        let first = format!("{first:?}");
        panic!(
            "{} calls of 4,000 failed; the first: {first}",
            failed.count()
        );
    }
    for (n, answer) in answers.into_iter().map(Result::unwrap) {
        if n % 2 == 0 {
            assert!(answer >= head, "a head of {answer}, below {head}");
        } else {
            // The group's creation and its three messages.
            assert_eq!(answer, 4, "call {n}");
        }
    }
}
