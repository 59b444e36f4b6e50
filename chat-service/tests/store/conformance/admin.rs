//! The operator's reads: counts, and a conversation's messages for export whoever asks.

use chat_service::store::ChatStore;
use uuid::Uuid;

use super::{ALICE, BOB, CAROL, group, send};

pub async fn counts_leave_out_deleted_conversations<S: ChatStore>(store: S) {
    assert_eq!(store.counts().await.expect("counts"), (0, 0));
    let kept = group(&store, ALICE, &[BOB], false).await;
    let gone = group(&store, CAROL, &[], false).await;
    for body in ["one", "two"] {
        send(&store, ALICE, kept, body).await;
    }
    assert_eq!(store.counts().await.expect("counts"), (2, 2));
    store.delete_group(CAROL, gone).await.expect("delete");
    assert_eq!(store.counts().await.expect("counts"), (1, 2));
}

pub async fn export_pages_every_message_in_seq_order<S: ChatStore>(store: S) {
    let team = group(&store, ALICE, &[BOB], false).await;
    let mut sent = Vec::new();
    for n in 1..=5 {
        sent.push(
            send(
                &store,
                if n % 2 == 0 { BOB } else { ALICE },
                team,
                &format!("m{n}"),
            )
            .await,
        );
    }
    // No member asks: the export is the operator's.
    let first = store
        .export_messages(team, 0, 2)
        .await
        .expect("export")
        .expect("the conversation exists");
    assert_eq!(first, sent[..2]);
    let rest = store
        .export_messages(team, 2, 10)
        .await
        .expect("export")
        .expect("the conversation exists");
    assert_eq!(rest, sent[2..]);
    let past = store.export_messages(team, 5, 10).await.expect("export");
    assert_eq!(past, Some(Vec::new()));
    let unknown = store.export_messages(Uuid::new_v4(), 0, 10).await;
    assert_eq!(unknown.expect("export"), None);
}
