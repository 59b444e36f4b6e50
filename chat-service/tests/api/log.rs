//! LogHead and ReadLog: where the log ends, and the ranges of it a gateway reads for the users
//! connected to it when it missed part of what the relay published.

use std::time::{Duration, Instant};

use chat_proto::chat::{LogEntry, LogHeadRequest, ReadLogRequest};
use tonic::Code;

use crate::events::{membership, receipt, summary};
use crate::helpers::{
    ALICE, BOB, CAROL, Client, DAVE, assert_refused, catch_up, create_group, send, send_request,
    settle, spawn_chat,
};

async fn head(client: &mut Client) -> i64 {
    client
        .log_head(LogHeadRequest {})
        .await
        .expect("the log's head")
        .into_inner()
        .position
}

/// Waits (the relay positions events just after they commit) until the head reaches `position`.
async fn head_reaches(client: &mut Client, position: i64) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while head(client).await < position {
        assert!(
            Instant::now() < deadline,
            "the head never reached {position}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(head(client).await, position, "nothing else was logged");
}

#[tokio::test]
async fn the_log_head_moves_on_with_each_write() {
    let mut client = spawn_chat().await;
    assert_eq!(head(&mut client).await, 0, "a new log is empty");
    let group = create_group(&mut client, ALICE, &[BOB]).await;
    head_reaches(&mut client, 1).await;
    let hello = send(&mut client, ALICE, &group.id, "hello").await;
    head_reaches(&mut client, 2).await;
    // Refused writes and writes that change nothing log nothing.
    let refused = client
        .send_message(send_request(CAROL, &group.id, "let me in"))
        .await;
    assert_refused(refused, Code::PermissionDenied, "not_a_member");
    client
        .mark_read(receipt(ALICE, &hello.id))
        .await
        .expect("her own");
    client
        .join_group(membership(ALICE, &group.id, BOB))
        .await
        .expect("again");
    client
        .mark_read(receipt(BOB, &hello.id))
        .await
        .expect("read");
    head_reaches(&mut client, 3).await;

    let feed = catch_up(&mut client, ALICE, 0).await;
    let logged: Vec<(i64, String)> = feed.iter().map(|e| (e.position, summary(e))).collect();
    assert_eq!(
        logged,
        [
            (1, "created Team by alice with alice,bob".to_owned()),
            (2, "alice #1: hello".to_owned()),
            (3, "bob read alice's #1".to_owned()),
        ]
    );
}

fn read(users: &[&str], after: i64, up_to: i64, limit: u32) -> ReadLogRequest {
    ReadLogRequest {
        after_position: after,
        up_to_position: up_to,
        user_ids: users.iter().map(|u| u.to_string()).collect(),
        limit,
    }
}

/// Each entry as its event and the users it is for.
fn delivered(entries: &[LogEntry]) -> Vec<(String, Vec<String>)> {
    entries
        .iter()
        .map(|entry| {
            let event = entry.event.as_ref().expect("an event");
            assert_eq!(event.position, entry.position);
            (summary(event), entry.recipient_ids.clone())
        })
        .collect()
}

#[tokio::test]
async fn read_log_returns_the_events_of_the_users_asked_about_and_only_them() {
    let mut client = spawn_chat().await;
    let team = create_group(&mut client, ALICE, &[BOB, CAROL]).await;
    let hello = send(&mut client, ALICE, &team.id, "hello").await;
    client
        .mark_delivered(receipt(BOB, &hello.id))
        .await
        .expect("got");
    let other = create_group(&mut client, DAVE, &[]).await;
    send(&mut client, DAVE, &other.id, "note to self").await;
    let end = settle(&mut client).await;

    let read_log = |request| {
        let mut client = client.clone();
        async move { client.read_log(request).await.expect("read").into_inner() }
    };
    let bob_and_carol = read_log(read(&[BOB, CAROL], 0, 0, 0)).await;
    assert!(!bob_and_carol.has_more);
    let both = vec![BOB.to_owned(), CAROL.to_owned()];
    let mut sorted = delivered(&bob_and_carol.entries);
    sorted.iter_mut().for_each(|(_, users)| users.sort());
    assert_eq!(
        sorted,
        [
            (
                "created Team by alice with alice,bob,carol".to_owned(),
                both.clone()
            ),
            ("alice #1: hello".to_owned(), both),
        ]
    );
    let alice_and_dave = read_log(read(&[ALICE, DAVE], 0, end, 0)).await;
    assert_eq!(
        delivered(&alice_and_dave.entries)[2..],
        [
            ("bob got alice's #1".to_owned(), vec![ALICE.to_owned()]),
            (
                "created Team by dave with dave".to_owned(),
                vec![DAVE.to_owned()]
            ),
            ("dave #1: note to self".to_owned(), vec![DAVE.to_owned()]),
        ]
    );

    // Ranges and pages: `after` is exclusive, `up_to` inclusive, `has_more` says a page was cut.
    let positions: Vec<i64> = alice_and_dave.entries.iter().map(|e| e.position).collect();
    let page = read_log(read(&[ALICE, DAVE], positions[0], positions[3], 2)).await;
    assert!(page.has_more);
    assert_eq!(page.entries, alice_and_dave.entries[1..3]);
    let rest = read_log(read(&[ALICE, DAVE], positions[2], positions[3], 2)).await;
    assert!(!rest.has_more);
    assert_eq!(rest.entries, alice_and_dave.entries[3..4]);
    assert!(read_log(read(&[], 0, 0, 0)).await.entries.is_empty());
    let stranger = "e5e00000-0000-4000-8000-000000000009";
    assert!(
        read_log(read(&[stranger], 0, 0, 0))
            .await
            .entries
            .is_empty()
    );

    let refused = client.read_log(read(&[ALICE, "bob"], 0, 0, 0)).await;
    assert_refused(refused, Code::InvalidArgument, "validation_failed");
}
