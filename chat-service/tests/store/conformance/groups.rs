//! Groups: who owns them, who may join, add, leave and remove, and who sees them.

use chat_proto::chat::ConversationKind;
use chat_service::error::ChatError;
use chat_service::store::{ChatStore, NewGroup};
use uuid::Uuid;

use super::{ALICE, BOB, CAROL, DAVE, conversation, group, id, ids, member_ids, refused, tick};

pub async fn creating_a_group_makes_the_creator_its_owner<S: ChatStore>(store: S) {
    let before = chrono::Utc::now().timestamp_millis();
    let created = store
        .create_group(NewGroup {
            creator: ALICE,
            name: "Climbing".into(),
            members: vec![CAROL, BOB, CAROL, ALICE],
            is_public: false,
            external_id: None,
        })
        .await
        .expect("create a group");
    assert_eq!(created.name, "Climbing");
    assert_eq!(created.kind, i32::from(ConversationKind::Group));
    assert_eq!(created.owner_id, ALICE.to_string());
    assert!(!created.is_public);
    assert_eq!(created.last_seq, 0);
    assert!(created.created_at_ms >= before, "{created:?}");
    // Each member once, in the order they joined (then by id); the creator is the owner.
    assert_eq!(member_ids(&created), ids(&[ALICE, BOB, CAROL]));
    for member in &created.members {
        let role = if member.user_id == ALICE.to_string() {
            "owner"
        } else {
            "member"
        };
        assert_eq!(member.role, role, "{member:?}");
        assert_eq!((member.last_delivered_seq, member.last_read_seq), (0, 0));
    }
    let second = group(&store, BOB, &[], true).await;
    let second = conversation(&store, BOB, second).await;
    assert!(second.number > created.number, "numbers grow");
    assert!(second.is_public);
    assert_eq!(member_ids(&second), ids(&[BOB]));
}

pub async fn strangers_join_public_groups_but_not_private_ones<S: ChatStore>(store: S) {
    let private = group(&store, ALICE, &[BOB], false).await;
    let error = refused(store.join_group(DAVE, private, DAVE).await);
    assert!(matches!(error, ChatError::Forbidden(_)), "{error:?}");
    let public = group(&store, ALICE, &[], true).await;
    let joined = store.join_group(DAVE, public, DAVE).await.expect("join");
    assert!(joined.changed);
    let group = joined.conversation.expect("the group after the change");
    assert_eq!(member_ids(&group), ids(&[ALICE, DAVE]));
    let again = store
        .join_group(DAVE, public, DAVE)
        .await
        .expect("join again");
    assert!(!again.changed, "joining twice changes nothing");
    assert_eq!(
        member_ids(&again.conversation.expect("the group")),
        ids(&[ALICE, DAVE])
    );
}

pub async fn members_add_others_and_former_members_rejoin<S: ChatStore>(store: S) {
    let team = group(&store, ALICE, &[BOB], false).await;
    let added = store
        .join_group(BOB, team, CAROL)
        .await
        .expect("bob adds carol");
    assert!(added.changed);
    assert!(member_ids(&added.conversation.expect("the group")).contains(&CAROL.to_string()));
    let error = refused(store.join_group(DAVE, team, DAVE).await);
    assert!(matches!(error, ChatError::Forbidden(_)), "{error:?}");
    let error = refused(store.join_group(DAVE, team, Uuid::new_v4()).await);
    assert!(matches!(error, ChatError::NotAMember), "{error:?}");
    store
        .leave_group(CAROL, team, CAROL)
        .await
        .expect("carol leaves");
    tick().await;
    let back = store
        .join_group(CAROL, team, CAROL)
        .await
        .expect("carol rejoins");
    assert!(back.changed);
    let group = back.conversation.expect("the group");
    // Carol rejoined last, so she is listed last.
    assert_eq!(member_ids(&group), ids(&[ALICE, BOB, CAROL]));
    let carol = group
        .members
        .iter()
        .find(|m| m.user_id == CAROL.to_string());
    assert_eq!(carol.map(|m| m.role.as_str()), Some("member"));
}

pub async fn only_the_owner_removes_others<S: ChatStore>(store: S) {
    let team = group(&store, ALICE, &[BOB, CAROL], false).await;
    let error = refused(store.leave_group(BOB, team, CAROL).await);
    assert!(matches!(error, ChatError::Forbidden(_)), "{error:?}");
    let removed = store.leave_group(ALICE, team, CAROL).await.expect("remove");
    assert!(removed.changed);
    assert_eq!(
        member_ids(&removed.conversation.expect("the group")),
        ids(&[ALICE, BOB])
    );
    let error = refused(store.leave_group(CAROL, team, CAROL).await);
    assert!(matches!(error, ChatError::NotAMember), "{error:?}");
    let error = refused(store.leave_group(DAVE, team, DAVE).await);
    assert!(matches!(error, ChatError::NotAMember), "{error:?}");
    let error = refused(store.leave_group(ALICE, team, DAVE).await);
    assert!(matches!(error, ChatError::Validation(_)), "{error:?}");
    let left = store.leave_group(BOB, team, BOB).await.expect("bob leaves");
    assert_eq!(
        member_ids(&left.conversation.expect("the group")),
        ids(&[ALICE])
    );
    // An owner who left no longer manages the group.
    store
        .join_group(ALICE, team, BOB)
        .await
        .expect("bob is back");
    store
        .leave_group(ALICE, team, ALICE)
        .await
        .expect("alice leaves");
    let error = refused(store.leave_group(ALICE, team, BOB).await);
    assert!(matches!(error, ChatError::NotAMember), "{error:?}");
}

/// Leaving lets a member come back by themselves; being removed does not: a current member has
/// to add them again (or the group has to be public).
pub async fn removed_members_come_back_only_when_added<S: ChatStore>(store: S) {
    let team = group(&store, ALICE, &[BOB, CAROL], false).await;
    store
        .leave_group(ALICE, team, CAROL)
        .await
        .expect("alice removes carol");
    let error = refused(store.join_group(CAROL, team, CAROL).await);
    assert!(matches!(error, ChatError::Forbidden(_)), "{error:?}");
    let error = refused(store.join_group(CAROL, team, DAVE).await);
    assert!(matches!(error, ChatError::NotAMember), "{error:?}");
    assert_eq!(
        member_ids(&conversation(&store, ALICE, team).await),
        ids(&[ALICE, BOB])
    );
    let added = store
        .join_group(BOB, team, CAROL)
        .await
        .expect("bob adds carol back");
    assert!(added.changed);
    // Back in, she is a member like any other: one who may leave and come back by herself.
    store
        .leave_group(CAROL, team, CAROL)
        .await
        .expect("carol leaves");
    let back = store
        .join_group(CAROL, team, CAROL)
        .await
        .expect("carol rejoins");
    assert!(back.changed);
    // The owner's removal holds even after the owner is gone.
    store
        .leave_group(ALICE, team, CAROL)
        .await
        .expect("alice removes carol again");
    store
        .leave_group(ALICE, team, ALICE)
        .await
        .expect("alice leaves");
    let error = refused(store.join_group(CAROL, team, CAROL).await);
    assert!(matches!(error, ChatError::Forbidden(_)), "{error:?}");
    // Anyone may join a public group, whoever took them out of it.
    let public = group(&store, ALICE, &[DAVE], true).await;
    store
        .leave_group(ALICE, public, DAVE)
        .await
        .expect("alice removes dave");
    let joined = store
        .join_group(DAVE, public, DAVE)
        .await
        .expect("dave joins again");
    assert!(joined.changed);
}

pub async fn membership_of_unknown_conversations_is_refused<S: ChatStore>(store: S) {
    let nowhere = Uuid::new_v4();
    let error = refused(store.join_group(ALICE, nowhere, ALICE).await);
    assert!(
        matches!(error, ChatError::ConversationNotFound),
        "{error:?}"
    );
    let error = refused(store.leave_group(ALICE, nowhere, ALICE).await);
    assert!(
        matches!(error, ChatError::ConversationNotFound),
        "{error:?}"
    );
    let error = refused(store.get_conversation(ALICE, nowhere).await);
    assert!(
        matches!(error, ChatError::ConversationNotFound),
        "{error:?}"
    );
}

pub async fn conversations_are_listed_and_shown_to_their_readers<S: ChatStore>(store: S) {
    let first = group(&store, ALICE, &[BOB], false).await;
    tick().await;
    let second = group(&store, ALICE, &[], true).await;
    let listed = |conversations: Vec<chat_proto::chat::Conversation>| -> Vec<Uuid> {
        conversations.iter().map(|c| id(&c.id)).collect()
    };
    let mine = store.list_conversations(ALICE).await.expect("list");
    assert_eq!(listed(mine), vec![second, first], "newest activity first");
    tick().await;
    super::send(&store, BOB, first, "bump").await;
    let mine = store.list_conversations(ALICE).await.expect("list");
    assert_eq!(listed(mine.clone()), vec![first, second]);
    assert_eq!(mine[0].last_seq, 1);
    assert_eq!(member_ids(&mine[0]), ids(&[ALICE, BOB]));
    let bobs = store.list_conversations(BOB).await.expect("list");
    assert_eq!(listed(bobs), vec![first]);
    assert!(
        store
            .list_conversations(DAVE)
            .await
            .expect("list")
            .is_empty()
    );
    // Private groups are shown to members only; public ones to anyone.
    let error = refused(store.get_conversation(DAVE, first).await);
    assert!(matches!(error, ChatError::NotAMember), "{error:?}");
    assert_eq!(conversation(&store, DAVE, second).await.name, "Team");
    store
        .leave_group(BOB, first, BOB)
        .await
        .expect("bob leaves");
    assert!(
        store
            .list_conversations(BOB)
            .await
            .expect("list")
            .is_empty()
    );
    let error = refused(store.get_conversation(BOB, first).await);
    assert!(matches!(error, ChatError::NotAMember), "{error:?}");
}

pub async fn public_groups_are_listed_for_anyone_by_number<S: ChatStore>(store: S) {
    let first = group(&store, ALICE, &[BOB], true).await;
    group(&store, ALICE, &[BOB], false).await;
    let second = group(&store, CAROL, &[], true).await;
    store
        .direct_conversation(ALICE, BOB, true)
        .await
        .expect("a direct conversation");
    let listed = store.public_groups().await.expect("list");
    let listed_ids: Vec<Uuid> = listed.iter().map(|g| id(&g.id)).collect();
    assert_eq!(listed_ids, [first, second]);
    assert!(listed.iter().all(|g| g.is_public));
    assert_eq!(member_ids(&listed[0]), ids(&[ALICE, BOB]));
    store.join_group(DAVE, second, DAVE).await.expect("join");
    let listed = store.public_groups().await.expect("list");
    assert_eq!(member_ids(&listed[1]), ids(&[CAROL, DAVE]));
}

pub async fn only_the_owner_renames_a_group<S: ChatStore>(store: S) {
    let team = group(&store, ALICE, &[BOB], true).await;
    let error = refused(store.rename_group(BOB, team, "Mine".into()).await);
    assert!(matches!(error, ChatError::Forbidden(_)), "{error:?}");
    let error = refused(store.rename_group(DAVE, team, "Mine".into()).await);
    assert!(matches!(error, ChatError::Forbidden(_)), "{error:?}");
    assert_eq!(conversation(&store, ALICE, team).await.name, "Team");
    let renamed = store
        .rename_group(ALICE, team, "Climbers".into())
        .await
        .expect("rename");
    assert_eq!((renamed.name.as_str(), id(&renamed.id)), ("Climbers", team));
    assert_eq!(member_ids(&renamed), ids(&[ALICE, BOB]));
    assert_eq!(conversation(&store, BOB, team).await.name, "Climbers");
    let direct = store
        .direct_conversation(ALICE, BOB, true)
        .await
        .expect("direct")
        .expect("created");
    let error = refused(store.rename_group(ALICE, id(&direct.id), "x".into()).await);
    assert!(matches!(error, ChatError::WrongKind(_)), "{error:?}");
    let error = refused(store.rename_group(ALICE, Uuid::new_v4(), "x".into()).await);
    assert!(
        matches!(error, ChatError::ConversationNotFound),
        "{error:?}"
    );
}
