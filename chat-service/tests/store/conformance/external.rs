//! Groups found by an external id (a platform's scoped chatID, seed 002), and deleting a group.

use chat_proto::chat::conversation_event::Kind;
use chat_service::error::ChatError;
use chat_service::store::{ChatStore, NewGroup};

use super::logged::{Log, change, kinds};
use super::{ALICE, BOB, CAROL, DAVE, id, ids, member_ids, refused, send};

fn platform_group(creator: uuid::Uuid, members: &[uuid::Uuid], external: &str) -> NewGroup {
    NewGroup {
        creator,
        name: "Team".into(),
        members: members.to_vec(),
        is_public: false,
        external_id: Some(external.to_owned()),
    }
}

pub async fn groups_are_found_by_their_external_id_which_is_unique<S: ChatStore>(store: S) {
    let created = store
        .create_group(platform_group(ALICE, &[BOB], "p1/chat-1"))
        .await
        .expect("create");
    assert_eq!(created.external_id, "p1/chat-1");
    let found = store
        .conversation_by_external_id("p1/chat-1")
        .await
        .expect("look up")
        .expect("found");
    assert_eq!(found.id, created.id);
    assert_eq!(member_ids(&found), ids(&[ALICE, BOB]));
    // External ids are case-sensitive, and another platform's prefix is another id.
    for other in ["p1/Chat-1", "p2/chat-1", "chat-1"] {
        let missing = store
            .conversation_by_external_id(other)
            .await
            .expect("look up");
        assert!(missing.is_none(), "{other}");
    }
    let taken = refused(
        store
            .create_group(platform_group(CAROL, &[], "p1/chat-1"))
            .await,
    );
    assert!(matches!(taken, ChatError::ExternalIdTaken), "{taken:?}");
    let other = store
        .create_group(platform_group(CAROL, &[], "p2/chat-1"))
        .await
        .expect("the same chat id on another platform");
    assert_ne!(other.id, created.id);
}

pub async fn deleting_a_group_removes_everyone_then_frees_its_external_id<S: ChatStore>(store: S) {
    let mut log = Log::new(&store).await;
    let created = store
        .create_group(platform_group(ALICE, &[BOB, CAROL], "p1/doomed"))
        .await
        .expect("create");
    let team = id(&created.id);
    send(&store, BOB, team, "hello").await;
    let error = refused(store.delete_group(BOB, team).await);
    assert!(matches!(error, ChatError::Forbidden(_)), "{error:?}");
    let error = refused(store.delete_group(ALICE, uuid::Uuid::new_v4()).await);
    assert!(
        matches!(error, ChatError::ConversationNotFound),
        "{error:?}"
    );
    let before = log.of(BOB).await.len();

    let removed = store.delete_group(ALICE, team).await.expect("delete");
    assert_eq!(removed, vec![BOB, CAROL, ALICE], "the owner leaves last");
    // Each member hears of their own removal; the owner of every one.
    let bobs = kinds(&log.of(BOB).await);
    assert_eq!(bobs.len(), before + 1);
    assert_eq!(bobs.last(), Some(&Kind::MemberLeft(change(BOB, ALICE))));
    let alices = kinds(&log.of(ALICE).await);
    assert_eq!(
        alices[alices.len() - 3..],
        [
            Kind::MemberLeft(change(BOB, ALICE)),
            Kind::MemberLeft(change(CAROL, ALICE)),
            Kind::MemberLeft(change(ALICE, ALICE)),
        ]
    );
    let gone = store.get_conversation(ALICE, team).await;
    assert!(
        matches!(gone, Err(ChatError::ConversationNotFound)),
        "{gone:?}"
    );
    assert!(
        store
            .conversation_by_external_id("p1/doomed")
            .await
            .expect("look up")
            .is_none()
    );
    let error = refused(store.delete_group(ALICE, team).await);
    assert!(
        matches!(error, ChatError::ConversationNotFound),
        "{error:?}"
    );
    let again = store
        .create_group(platform_group(DAVE, &[], "p1/doomed"))
        .await
        .expect("the chat id is free again");
    assert_ne!(again.id, created.id);
    let error = refused(store.send_message(super::message(BOB, team, "late")).await);
    assert!(
        matches!(
            error,
            ChatError::ConversationNotFound | ChatError::NotAMember
        ),
        "{error:?}"
    );
}
