//! The event log: every write logs its event, in its transaction, for exactly the users it
//! concerns; a write that changes nothing logs nothing.

use chat_proto::chat::conversation_event::Kind;
use chat_proto::chat::{ConversationKind, Origin};
use chat_service::log::MAX_PAGE;
use chat_service::store::{ChatStore, NewMessage, ReceiptKind};

use super::logged::{Log, change, created, kinds, reaching, receipt};
use super::{ALICE, BOB, CAROL, DAVE, group, id, ids, message, send};

pub async fn every_write_logs_its_event_for_exactly_its_recipients<S: ChatStore>(store: S) {
    let mut log = Log::new(&store).await;
    let team = group(&store, ALICE, &[BOB], false).await;
    store
        .join_group(ALICE, team, CAROL)
        .await
        .expect("add carol");
    let origin = Origin {
        connection_id: "socket-1".into(),
        username: "alice".into(),
        first_name: "Alice".into(),
    };
    let hello = store
        .send_message(NewMessage {
            origin: Some(origin.clone()),
            ..message(ALICE, team, "hello")
        })
        .await
        .expect("send")
        .message
        .expect("the stored message");
    let mark = |user, kind| store.mark(user, id(&hello.id), kind);
    assert!(
        mark(BOB, ReceiptKind::Delivered)
            .await
            .expect("got")
            .advanced
    );
    assert!(mark(CAROL, ReceiptKind::Read).await.expect("read").advanced);
    store.leave_group(BOB, team, BOB).await.expect("bob leaves");

    let entries = log
        .read(&[ALICE, BOB, CAROL, DAVE], 0, None, MAX_PAGE)
        .await;
    assert_eq!(
        reaching(&entries),
        vec![
            (created(ALICE, &[ALICE, BOB]), ids(&[ALICE, BOB])),
            (
                Kind::MemberJoined(change(CAROL, ALICE)),
                ids(&[ALICE, BOB, CAROL])
            ),
            (Kind::Message(hello.clone()), ids(&[ALICE, BOB, CAROL])),
            // A receipt is for the message's sender only; reading does not log a delivery.
            (Kind::Delivered(receipt(&hello, BOB)), ids(&[ALICE])),
            (Kind::Read(receipt(&hello, CAROL)), ids(&[ALICE])),
            // The remaining members, and the one who left.
            (
                Kind::MemberLeft(change(BOB, BOB)),
                ids(&[ALICE, BOB, CAROL])
            ),
        ]
    );
    assert!(entries.windows(2).all(|w| w[0].position < w[1].position));
    for entry in &entries {
        let event = entry.event.as_ref().expect("an event");
        assert_eq!(event.position, entry.position);
        assert_eq!(event.conversation_id, team.to_string());
    }
    let logged = &entries[2];
    assert_eq!(logged.origin.as_ref(), Some(&origin));
    assert_eq!(logged.conversation_kind, ConversationKind::Group as i32);
    assert_eq!(
        logged.event.as_ref().map(|e| e.at_ms),
        Some(hello.created_at_ms)
    );
    assert_eq!(
        log.settle().await,
        entries[5].position,
        "nothing else was logged"
    );
}

pub async fn writes_that_change_nothing_log_nothing<S: ChatStore>(store: S) {
    let mut log = Log::new(&store).await;
    let team = group(&store, ALICE, &[BOB], false).await;
    let first = store
        .send_message(NewMessage {
            client_message_id: Some("first".into()),
            ..message(ALICE, team, "first")
        })
        .await
        .expect("send");
    let first = first.message.expect("the stored message");
    let second = send(&store, ALICE, team, "second").await;
    let read = store.mark(BOB, id(&second.id), ReceiptKind::Read).await;
    assert!(read.expect("read").advanced);
    let head = log.settle().await;

    let retry = store
        .send_message(NewMessage {
            client_message_id: Some("first".into()),
            ..message(ALICE, team, "first")
        })
        .await
        .expect("retry");
    assert!(retry.duplicate);
    for (user, message, kind) in [
        // Behind or at Bob's watermarks.
        (BOB, &first, ReceiptKind::Delivered),
        (BOB, &second, ReceiptKind::Read),
        // Alice's own messages: sending one already saw it.
        (ALICE, &first, ReceiptKind::Read),
    ] {
        let marked = store.mark(user, id(&message.id), kind).await.expect("mark");
        assert!(!marked.advanced);
    }
    let again = store
        .join_group(ALICE, team, BOB)
        .await
        .expect("add bob again");
    assert!(!again.changed);
    assert!(store.leave_group(ALICE, team, CAROL).await.is_err());
    assert_eq!(log.settle().await, head);
    assert_eq!(
        log.read(&[ALICE, BOB, CAROL], head, None, MAX_PAGE).await,
        []
    );
}

pub async fn a_former_member_gets_their_leave_but_nothing_after_it<S: ChatStore>(store: S) {
    let mut log = Log::new(&store).await;
    let team = group(&store, ALICE, &[BOB], false).await;
    let before = send(&store, ALICE, team, "before").await;
    let bye = send(&store, BOB, team, "bye").await;
    store.leave_group(BOB, team, BOB).await.expect("bob leaves");
    // Alice reading Bob's message once he has gone tells him nothing.
    let read = store.mark(ALICE, id(&bye.id), ReceiptKind::Read).await;
    assert!(read.expect("alice reads it").advanced);
    let after = send(&store, ALICE, team, "after").await;
    store
        .join_group(ALICE, team, CAROL)
        .await
        .expect("add carol");
    store
        .mark(CAROL, id(&after.id), ReceiptKind::Read)
        .await
        .expect("carol reads it");
    store
        .leave_group(ALICE, team, CAROL)
        .await
        .expect("alice removes carol");
    let bobs_stay = vec![
        created(ALICE, &[ALICE, BOB]),
        Kind::Message(before),
        Kind::Message(bye),
        Kind::MemberLeft(change(BOB, BOB)),
    ];
    assert_eq!(kinds(&log.of(BOB).await), bobs_stay);
    assert_eq!(
        kinds(&log.of(CAROL).await),
        vec![
            Kind::MemberJoined(change(CAROL, ALICE)),
            Kind::MemberLeft(change(CAROL, ALICE)),
        ]
    );
    assert_eq!(log.of(ALICE).await.len(), 8);

    // Coming back, Bob hears of it and of what follows, and still nothing of what he missed.
    store.join_group(BOB, team, BOB).await.expect("bob rejoins");
    let back = send(&store, ALICE, team, "welcome back").await;
    let mut expected = bobs_stay;
    expected.extend([Kind::MemberJoined(change(BOB, BOB)), Kind::Message(back)]);
    assert_eq!(kinds(&log.of(BOB).await), expected);
}

pub async fn direct_messages_are_logged_for_both_people<S: ChatStore>(store: S) {
    let mut log = Log::new(&store).await;
    let direct = store
        .direct_conversation(ALICE, BOB, true)
        .await
        .expect("open it")
        .expect("the conversation");
    let hi = send(&store, BOB, id(&direct.id), "hi").await;
    let entries = log.read(&[ALICE, BOB, CAROL], 0, None, MAX_PAGE).await;
    assert_eq!(
        reaching(&entries),
        vec![(Kind::Message(hi), ids(&[ALICE, BOB]))]
    );
    assert_eq!(log.of(ALICE).await[0].recipient_ids, ids(&[ALICE]));
    assert_eq!(
        entries[0].conversation_kind,
        ConversationKind::Direct as i32
    );
    assert_eq!(entries[0].origin, None);
    assert_eq!(log.of(CAROL).await, []);
}
