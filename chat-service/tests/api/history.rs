//! Reading history: pages of at most 100, backwards and forwards by seq, filtered by time.

use chat_proto::chat::{ListMessagesRequest, Message};

use crate::helpers::{ALICE, BOB, Client, create_group, list_messages, send, spawn_chat, tick};

fn page(conversation: &str) -> ListMessagesRequest {
    ListMessagesRequest {
        user_id: BOB.into(),
        conversation_id: conversation.into(),
        ..Default::default()
    }
}

fn seqs(range: std::ops::RangeInclusive<i64>) -> Vec<i64> {
    range.collect()
}

/// A group with `count` messages from Alice, Bob reading.
async fn group_with_messages(client: &mut Client, count: usize) -> (String, Vec<Message>) {
    let group = create_group(client, ALICE, &[BOB]).await;
    let mut sent = Vec::new();
    for n in 1..=count {
        sent.push(send(client, ALICE, &group.id, &format!("message {n}")).await);
    }
    (group.id, sent)
}

#[tokio::test]
async fn the_newest_page_holds_50_by_default_and_never_more_than_100() {
    let mut client = spawn_chat().await;
    let (group, _) = group_with_messages(&mut client, 120).await;

    let newest = list_messages(&mut client, page(&group)).await;
    assert_eq!(newest, (seqs(71..=120), true));
    for (limit, expected) in [(10, seqs(111..=120)), (100, seqs(21..=120))] {
        let request = ListMessagesRequest {
            limit,
            ..page(&group)
        };
        assert_eq!(list_messages(&mut client, request).await, (expected, true));
    }
    let request = ListMessagesRequest {
        limit: 500,
        ..page(&group)
    };
    assert_eq!(list_messages(&mut client, request).await.0.len(), 100);
}

#[tokio::test]
async fn paging_backwards_with_before_seq_walks_to_the_first_message() {
    let mut client = spawn_chat().await;
    let (group, sent) = group_with_messages(&mut client, 120).await;

    let mut pages = Vec::new();
    let mut before_seq = 0;
    loop {
        let request = ListMessagesRequest {
            before_seq,
            limit: 50,
            ..page(&group)
        };
        let (seqs, has_more) = list_messages(&mut client, request).await;
        before_seq = seqs[0];
        pages.push((seqs, has_more));
        if !has_more {
            break;
        }
    }

    assert_eq!(
        pages,
        [
            (seqs(71..=120), true),
            (seqs(21..=70), true),
            (seqs(1..=20), false)
        ]
    );
    let all = client
        .list_messages(ListMessagesRequest {
            before_seq: 4,
            ..page(&group)
        })
        .await
        .expect("list")
        .into_inner();
    assert_eq!(all.messages, sent[..3], "pages carry the messages as sent");
}

#[tokio::test]
async fn paging_forwards_with_after_seq_walks_to_the_newest_message() {
    let mut client = spawn_chat().await;
    let (group, _) = group_with_messages(&mut client, 120).await;

    let mut pages = Vec::new();
    let mut after_seq = 10;
    loop {
        let request = ListMessagesRequest {
            after_seq,
            limit: 50,
            ..page(&group)
        };
        let (seqs, has_more) = list_messages(&mut client, request).await;
        after_seq = *seqs.last().expect("a page");
        pages.push((seqs, has_more));
        if !has_more {
            break;
        }
    }

    assert_eq!(
        pages,
        [
            (seqs(11..=60), true),
            (seqs(61..=110), true),
            (seqs(111..=120), false)
        ]
    );
    let past_the_end = ListMessagesRequest {
        after_seq: 120,
        ..page(&group)
    };
    assert_eq!(
        list_messages(&mut client, past_the_end).await,
        (vec![], false)
    );
    let between = ListMessagesRequest {
        after_seq: 10,
        before_seq: 20,
        ..page(&group)
    };
    assert_eq!(
        list_messages(&mut client, between).await,
        (seqs(11..=19), false)
    );
}

#[tokio::test]
async fn after_ms_and_before_ms_filter_by_the_time_messages_were_sent() {
    let mut client = spawn_chat().await;
    let group = create_group(&mut client, ALICE, &[BOB]).await;
    let mut batches: Vec<Vec<Message>> = Vec::new();
    for batch in 0..3 {
        tick().await;
        let mut sent = Vec::new();
        for n in 0..4 {
            sent.push(send(&mut client, ALICE, &group.id, &format!("{batch}.{n}")).await);
        }
        batches.push(sent);
    }
    let end_of_first = batches[0][3].created_at_ms;
    let start_of_last = batches[2][0].created_at_ms;

    // Bounds are exclusive, in the milliseconds clients see.
    let after = ListMessagesRequest {
        after_ms: end_of_first,
        ..page(&group.id)
    };
    assert_eq!(
        list_messages(&mut client, after).await,
        (seqs(5..=12), false)
    );
    let before = ListMessagesRequest {
        before_ms: start_of_last,
        ..page(&group.id)
    };
    assert_eq!(
        list_messages(&mut client, before).await,
        (seqs(1..=8), false)
    );
    let between = ListMessagesRequest {
        after_ms: end_of_first,
        before_ms: start_of_last,
        ..page(&group.id)
    };
    assert_eq!(
        list_messages(&mut client, between).await,
        (seqs(5..=8), false)
    );
    let first_of_after = ListMessagesRequest {
        after_ms: end_of_first,
        limit: 3,
        ..page(&group.id)
    };
    assert_eq!(
        list_messages(&mut client, first_of_after).await,
        (seqs(5..=7), true)
    );
    let last_of_before = ListMessagesRequest {
        before_ms: start_of_last,
        limit: 3,
        ..page(&group.id)
    };
    assert_eq!(
        list_messages(&mut client, last_of_before).await,
        (seqs(6..=8), true)
    );
}
