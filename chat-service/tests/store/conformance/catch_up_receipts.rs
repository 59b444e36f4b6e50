//! Catch-up of receipts: what others received and read of the user's own messages, derived from
//! their watermarks, and unmoved by the messages they send.

use chat_proto::chat::ConversationEvent;
use chat_proto::chat::conversation_event::Kind;
use chat_service::store::{ChatStore, ReceiptKind};
use uuid::Uuid;

use super::catch_up::{epoch, feed, kinds, receipt};
use super::{ALICE, BOB, CAROL, group, id, send, tick};

/// The receipt events of `user`'s whole feed.
async fn receipt_events<S: ChatStore>(store: &S, user: Uuid) -> Vec<ConversationEvent> {
    feed(store, user, epoch(), 1000)
        .await
        .into_iter()
        .filter(|e| matches!(e.kind, Some(Kind::Delivered(_) | Kind::Read(_))))
        .collect()
}

async fn receipts<S: ChatStore>(store: &S, user: Uuid) -> Vec<Kind> {
    kinds(&receipt_events(store, user).await)
}

pub async fn catch_up_shows_receipts_on_the_users_own_messages<S: ChatStore>(store: S) {
    let team = group(&store, ALICE, &[BOB, CAROL], false).await;
    let bobs = send(&store, BOB, team, "bob's").await;
    let two = send(&store, ALICE, team, "two").await;
    let three = send(&store, ALICE, team, "three").await;
    tick().await;
    store
        .mark(BOB, id(&two.id), ReceiptKind::Delivered)
        .await
        .expect("bob got it");
    tick().await;
    store
        .mark(CAROL, id(&three.id), ReceiptKind::Read)
        .await
        .expect("carol read it");
    // Reading also delivers: both at one instant, the delivery first.
    assert_eq!(
        receipts(&store, ALICE).await,
        vec![
            Kind::Delivered(receipt(&two, BOB)),
            Kind::Delivered(receipt(&three, CAROL)),
            Kind::Read(receipt(&three, CAROL)),
        ]
    );
    let alices = feed(&store, ALICE, epoch(), 1000).await;
    let (delivered, read) = (&alices[alices.len() - 2], &alices[alices.len() - 1]);
    assert_eq!(delivered.at_ms, read.at_ms);
    // Carol's watermark covers Bob's message too; nobody is told of their own receipts.
    assert_eq!(
        receipts(&store, BOB).await,
        vec![
            Kind::Delivered(receipt(&bobs, CAROL)),
            Kind::Read(receipt(&bobs, CAROL)),
        ]
    );
    assert!(receipts(&store, CAROL).await.is_empty());
}

/// A send moves the sender's watermarks onto their own message; the receipts they gave before
/// stay in the feed, at the time they gave them.
pub async fn catch_up_keeps_receipts_after_the_reader_replies<S: ChatStore>(store: S) {
    let team = group(&store, ALICE, &[BOB], false).await;
    let hello = send(&store, ALICE, team, "hello").await;
    tick().await;
    store
        .mark(BOB, id(&hello.id), ReceiptKind::Read)
        .await
        .expect("bob reads it");
    tick().await;
    let reply = send(&store, BOB, team, "hi back").await;
    let expected = vec![
        Kind::Delivered(receipt(&hello, BOB)),
        Kind::Read(receipt(&hello, BOB)),
    ];
    assert_eq!(receipts(&store, ALICE).await, expected);
    // Alice's next message is covered by Bob's next reply, but he never said he got or read it:
    // the feed does not make that up, nor move his receipts to the time of a send.
    tick().await;
    send(&store, ALICE, team, "how are you?").await;
    tick().await;
    send(&store, BOB, team, "fine").await;
    let events = receipt_events(&store, ALICE).await;
    assert_eq!(kinds(&events), expected);
    for event in &events {
        assert!(event.at_ms >= hello.created_at_ms, "{event:?}");
        assert!(event.at_ms < reply.created_at_ms, "{event:?}");
    }
    assert!(receipts(&store, BOB).await.is_empty());
}

/// A watermark on someone else's message covers the user's earlier messages: the receipt names
/// the latest of them.
pub async fn catch_up_receipts_name_the_users_latest_message_under_the_watermark<S: ChatStore>(
    store: S,
) {
    let team = group(&store, ALICE, &[BOB, CAROL], false).await;
    send(&store, ALICE, team, "first").await;
    let alices = send(&store, ALICE, team, "second").await;
    let carols = send(&store, CAROL, team, "third").await;
    tick().await;
    store
        .mark(BOB, id(&carols.id), ReceiptKind::Read)
        .await
        .expect("bob reads up to carol's");
    assert_eq!(
        receipts(&store, ALICE).await,
        vec![
            Kind::Delivered(receipt(&alices, BOB)),
            Kind::Read(receipt(&alices, BOB)),
        ]
    );
    assert_eq!(
        receipts(&store, CAROL).await,
        vec![
            Kind::Delivered(receipt(&carols, BOB)),
            Kind::Read(receipt(&carols, BOB)),
        ]
    );
}
