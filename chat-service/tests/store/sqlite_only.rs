//! What only the SQLite backend has to show: its database is a file that outlives the process.

use std::sync::Arc;

use chat_service::SqliteChatStore;
use chat_service::store::{ChatStore, MessageRange};

use crate::backends::fresh_dir;
use crate::conformance::{ALICE, BOB, group, id, send};

#[tokio::test]
async fn reopening_the_file_keeps_groups_and_messages() {
    let dir = fresh_dir();
    let path = dir.join("data").join("chat.db");
    let store = SqliteChatStore::open(&path).await.expect("open");
    let team = group(&store, ALICE, &[BOB], false).await;
    let mut sent = Vec::new();
    for n in 0..3 {
        sent.push(send(&store, ALICE, team, &format!("m{n}")).await);
    }
    let before = store.list_conversations(BOB).await.expect("list");
    store.close().await;
    drop(store);

    let store = SqliteChatStore::open(&path).await.expect("reopen");
    assert_eq!(store.list_conversations(BOB).await.expect("list"), before);
    let history = store
        .list_messages(
            BOB,
            team,
            MessageRange {
                limit: 50,
                ..MessageRange::default()
            },
        )
        .await
        .expect("history");
    assert_eq!(history.messages, sent);
    // Counters carry on where they stopped: no seq or number is handed out twice.
    let next = send(&store, BOB, team, "after reopening").await;
    assert_eq!(next.seq, 4);
    assert!(next.number > sent[2].number);
    let other = group(&store, BOB, &[], false).await;
    assert_ne!(other, team);
    let numbers: Vec<i64> = store
        .list_conversations(BOB)
        .await
        .expect("list")
        .iter()
        .map(|c| c.number)
        .collect();
    assert!(numbers[0] > numbers[1], "{numbers:?}");
    assert_eq!(id(&before[0].id), team);
    store.close().await;
    std::fs::remove_dir_all(&dir).expect("remove the test's directory");
}

/// Two stores on one file stand for two processes: `BEGIN IMMEDIATE` and the busy timeout
/// make their writers queue for the file's one write lock instead of failing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_stores_on_one_file_keep_seqs_contiguous() {
    let dir = fresh_dir();
    let path = dir.join("chat.db");
    let first = Arc::new(SqliteChatStore::open(&path).await.expect("open"));
    let second = Arc::new(SqliteChatStore::open(&path).await.expect("open again"));
    let team = group(&*first, ALICE, &[BOB], false).await;
    let tasks: Vec<_> = (0..6)
        .map(|n| {
            let store = Arc::clone(if n % 2 == 0 { &first } else { &second });
            let sender = if n % 3 == 0 { ALICE } else { BOB };
            tokio::spawn(async move {
                for _ in 0..15 {
                    send(&*store, sender, team, "racing").await;
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("a sender");
    }
    let mut seqs = Vec::new();
    let mut after = 0;
    loop {
        let page = second
            .list_messages(
                ALICE,
                team,
                MessageRange {
                    after_seq: Some(after),
                    limit: 100,
                    ..MessageRange::default()
                },
            )
            .await
            .expect("history");
        seqs.extend(page.messages.iter().map(|m| m.seq));
        after = seqs.last().copied().unwrap_or_default();
        if !page.has_more {
            break;
        }
    }
    assert_eq!(seqs, (1..=90).collect::<Vec<i64>>());
    first.close().await;
    second.close().await;
    std::fs::remove_dir_all(&dir).expect("remove the test's directory");
}
