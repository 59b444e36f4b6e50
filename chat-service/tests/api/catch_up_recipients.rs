//! Who catches up on what: a sender on the receipts of their messages, and a member who left on
//! everything up to their leave and nothing after it.

use chat_proto::chat::conversation_event::Kind;

use crate::events::{membership, receipt, summaries};
use crate::helpers::{ALICE, BOB, CAROL, catch_up, create_group, send, spawn_chat};

#[tokio::test]
async fn a_sender_catches_up_on_the_receipts_of_their_messages() {
    let mut client = spawn_chat().await;
    let group = create_group(&mut client, ALICE, &[BOB, CAROL]).await;
    let mut sent = Vec::new();
    for body in ["one", "two", "three"] {
        sent.push(send(&mut client, ALICE, &group.id, body).await);
    }
    client
        .mark_delivered(receipt(BOB, &sent[2].id))
        .await
        .expect("got");
    client
        .mark_read(receipt(BOB, &sent[1].id))
        .await
        .expect("read");
    client
        .mark_read(receipt(CAROL, &sent[0].id))
        .await
        .expect("read");
    // Nothing new: Bob got #3 already, and Alice sent what she would read.
    client
        .mark_delivered(receipt(BOB, &sent[0].id))
        .await
        .expect("again");
    client
        .mark_read(receipt(ALICE, &sent[2].id))
        .await
        .expect("her own");

    let feed = catch_up(&mut client, ALICE, 0).await;

    assert_eq!(
        summaries(&feed),
        [
            "created Team by alice with alice,bob,carol",
            "alice #1: one",
            "alice #2: two",
            "alice #3: three",
            "bob got alice's #3",
            "bob read alice's #2",
            "carol read alice's #1",
        ]
    );
    let Some(Kind::Read(read)) = &feed[5].kind else {
        panic!("a read receipt")
    };
    assert_eq!(read.message_id, sent[1].id);
    // Receipts go to the sender of the message, not to the other readers.
    assert_eq!(catch_up(&mut client, BOB, 0).await.len(), 4);
}

#[tokio::test]
async fn a_member_who_left_catches_up_until_they_left() {
    let mut client = spawn_chat().await;
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

    assert_eq!(
        summaries(&catch_up(&mut client, BOB, 0).await),
        [
            // The group as Bob knew it, not with Carol, who came after he left.
            "created Team by alice with alice,bob",
            "alice #1: one",
            "bob #2: bye",
            "bob removed by bob",
        ]
    );
    assert_eq!(
        summaries(&catch_up(&mut client, ALICE, 0).await)[3..],
        [
            "bob removed by bob",
            "carol added by alice",
            "carol #3: hi all"
        ]
    );
}
