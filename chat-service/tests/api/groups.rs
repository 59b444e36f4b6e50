//! Groups: creation, who may join or remove whom, and which groups a user sees.

use chat_proto::chat::{
    ConversationKind, CreateGroupRequest, GetConversationRequest, ListConversationsRequest,
    MembershipChange, MembershipRequest,
};
use tonic::Code;

use crate::helpers::{
    ALICE, BOB, CAROL, Client, DAVE, assert_refused, create_group, send, spawn_chat,
};

fn membership(actor: &str, conversation: &str, user: &str) -> MembershipRequest {
    MembershipRequest {
        actor_id: actor.into(),
        conversation_id: conversation.into(),
        user_id: user.into(),
    }
}

async fn join(client: &mut Client, actor: &str, group: &str, user: &str) -> MembershipChange {
    client
        .join_group(membership(actor, group, user))
        .await
        .expect("join")
        .into_inner()
}

async fn leave(client: &mut Client, actor: &str, group: &str, user: &str) -> MembershipChange {
    client
        .leave_group(membership(actor, group, user))
        .await
        .expect("leave")
        .into_inner()
}

fn member_ids(change: &MembershipChange) -> Vec<&str> {
    let conversation = change.conversation.as_ref().expect("the conversation");
    conversation
        .members
        .iter()
        .map(|m| m.user_id.as_str())
        .collect()
}

async fn listed(client: &mut Client, user: &str) -> Vec<String> {
    client
        .list_conversations(ListConversationsRequest {
            user_id: user.into(),
        })
        .await
        .expect("list conversations")
        .into_inner()
        .conversations
        .into_iter()
        .map(|c| c.id)
        .collect()
}

#[tokio::test]
async fn creating_a_group_makes_the_creator_its_owner_and_first_member() {
    let mut client = spawn_chat().await;

    let group = client
        .create_group(CreateGroupRequest {
            creator_id: ALICE.into(),
            name: "  Climbing  ".into(),
            member_ids: vec![BOB.into(), CAROL.into(), BOB.into(), ALICE.into()],
            is_public: false,
            external_id: String::new(),
        })
        .await
        .expect("create")
        .into_inner();

    assert_eq!(group.kind(), ConversationKind::Group);
    assert_eq!(group.name, "Climbing");
    assert_eq!(group.owner_id, ALICE);
    assert!(!group.is_public);
    assert_eq!(group.last_seq, 0);
    assert!(group.created_at_ms > 0);
    let mut members: Vec<(&str, &str)> = group
        .members
        .iter()
        .map(|m| (m.user_id.as_str(), m.role.as_str()))
        .collect();
    members.sort();
    assert_eq!(
        members,
        [(ALICE, "owner"), (BOB, "member"), (CAROL, "member")]
    );
    let seen_by_bob = client
        .get_conversation(GetConversationRequest {
            user_id: BOB.into(),
            conversation_id: group.id.clone(),
            ..Default::default()
        })
        .await
        .expect("a member sees the group")
        .into_inner();
    assert_eq!(seen_by_bob, group);
}

#[tokio::test]
async fn a_group_needs_a_name() {
    let mut client = spawn_chat().await;

    for name in ["", "   ", &"x".repeat(201), "nul \0 inside"] {
        let refused = client
            .create_group(CreateGroupRequest {
                creator_id: ALICE.into(),
                name: name.into(),
                member_ids: vec![],
                is_public: false,
                external_id: String::new(),
            })
            .await;
        assert_refused(refused, Code::InvalidArgument, "validation_failed");
    }
    assert!(listed(&mut client, ALICE).await.is_empty());
}

#[tokio::test]
async fn a_member_adds_someone_and_anyone_leaves_with_the_change_reported() {
    let mut client = spawn_chat().await;
    let group = create_group(&mut client, ALICE, &[BOB]).await;

    let added = join(&mut client, BOB, &group.id, CAROL).await;
    assert!(added.changed);
    assert!(added.at_ms > 0);
    assert_eq!(member_ids(&added), [ALICE, BOB, CAROL]);

    let again = join(&mut client, ALICE, &group.id, CAROL).await;
    assert!(!again.changed, "Carol already is a member");
    assert_eq!(member_ids(&again), [ALICE, BOB, CAROL]);

    let left = leave(&mut client, CAROL, &group.id, CAROL).await;
    assert!(left.changed);
    assert_eq!(member_ids(&left), [ALICE, BOB]);
}

#[tokio::test]
async fn a_stranger_cannot_enter_a_private_group_but_may_enter_a_public_one() {
    let mut client = spawn_chat().await;
    let private = create_group(&mut client, ALICE, &[BOB]).await;

    let refused = client.join_group(membership(DAVE, &private.id, DAVE)).await;
    assert_refused(refused, Code::PermissionDenied, "forbidden");
    let refused = client
        .join_group(membership(DAVE, &private.id, CAROL))
        .await;
    assert_refused(refused, Code::PermissionDenied, "not_a_member");

    let public = client
        .create_group(CreateGroupRequest {
            creator_id: ALICE.into(),
            name: "Open".into(),
            member_ids: vec![],
            is_public: true,
            external_id: String::new(),
        })
        .await
        .expect("create")
        .into_inner();
    let joined = join(&mut client, DAVE, &public.id, DAVE).await;
    assert!(joined.changed);
    assert_eq!(member_ids(&joined), [ALICE, DAVE]);
}

#[tokio::test]
async fn a_former_member_may_rejoin_by_themselves() {
    let mut client = spawn_chat().await;
    let group = create_group(&mut client, ALICE, &[BOB]).await;
    leave(&mut client, BOB, &group.id, BOB).await;

    let back = join(&mut client, BOB, &group.id, BOB).await;

    assert!(back.changed);
    assert_eq!(member_ids(&back), [ALICE, BOB]);
    assert_eq!(listed(&mut client, BOB).await, [group.id]);
}

#[tokio::test]
async fn a_removed_member_comes_back_only_when_a_member_adds_them() {
    let mut client = spawn_chat().await;
    let group = create_group(&mut client, ALICE, &[BOB, CAROL]).await;
    leave(&mut client, ALICE, &group.id, BOB).await;

    let refused = client.join_group(membership(BOB, &group.id, BOB)).await;
    assert_refused(refused, Code::PermissionDenied, "forbidden");
    assert!(listed(&mut client, BOB).await.is_empty());

    let back = join(&mut client, CAROL, &group.id, BOB).await;
    assert!(back.changed);
    assert_eq!(member_ids(&back), [ALICE, CAROL, BOB]);
}

#[tokio::test]
async fn only_the_owner_removes_other_members() {
    let mut client = spawn_chat().await;
    let group = create_group(&mut client, ALICE, &[BOB, CAROL]).await;

    let refused = client.leave_group(membership(BOB, &group.id, CAROL)).await;
    assert_refused(refused, Code::PermissionDenied, "forbidden");

    let removed = leave(&mut client, ALICE, &group.id, CAROL).await;
    assert!(removed.changed);
    assert_eq!(member_ids(&removed), [ALICE, BOB]);
    assert!(listed(&mut client, CAROL).await.is_empty());
}

#[tokio::test]
async fn an_owner_who_left_no_longer_removes_members() {
    let mut client = spawn_chat().await;
    let group = create_group(&mut client, ALICE, &[BOB]).await;
    leave(&mut client, ALICE, &group.id, ALICE).await;

    let refused = client.leave_group(membership(ALICE, &group.id, BOB)).await;

    assert_refused(refused, Code::PermissionDenied, "not_a_member");
    assert_eq!(listed(&mut client, BOB).await, [group.id]);
}

#[tokio::test]
async fn leaving_a_group_you_are_not_in_is_refused() {
    let mut client = spawn_chat().await;
    let group = create_group(&mut client, ALICE, &[BOB]).await;

    let refused = client.leave_group(membership(DAVE, &group.id, DAVE)).await;
    assert_refused(refused, Code::PermissionDenied, "not_a_member");

    leave(&mut client, BOB, &group.id, BOB).await;
    let refused = client.leave_group(membership(BOB, &group.id, BOB)).await;
    assert_refused(refused, Code::PermissionDenied, "not_a_member");
}

#[tokio::test]
async fn an_unknown_group_is_not_found() {
    let mut client = spawn_chat().await;
    let unknown = uuid::Uuid::new_v4().to_string();

    let refused = client.join_group(membership(ALICE, &unknown, ALICE)).await;
    assert_refused(refused, Code::NotFound, "conversation_not_found");
    let refused = client.leave_group(membership(ALICE, &unknown, ALICE)).await;
    assert_refused(refused, Code::NotFound, "conversation_not_found");
    let refused = client
        .get_conversation(GetConversationRequest {
            user_id: ALICE.into(),
            conversation_id: unknown,
            ..Default::default()
        })
        .await;
    assert_refused(refused, Code::NotFound, "conversation_not_found");
}

#[tokio::test]
async fn a_user_lists_only_the_groups_they_are_in_newest_activity_first() {
    let mut client = spawn_chat().await;
    let first = create_group(&mut client, ALICE, &[BOB]).await;
    let second = create_group(&mut client, ALICE, &[BOB]).await;
    let left = create_group(&mut client, ALICE, &[BOB]).await;
    let without_bob = create_group(&mut client, ALICE, &[CAROL]).await;
    leave(&mut client, BOB, &left.id, BOB).await;

    assert_eq!(
        listed(&mut client, BOB).await,
        [second.id.clone(), first.id.clone()]
    );
    send(&mut client, ALICE, &first.id, "news").await;
    assert_eq!(
        listed(&mut client, BOB).await,
        [first.id.clone(), second.id.clone()]
    );
    assert_eq!(
        listed(&mut client, ALICE).await,
        [&first.id, &left.id, &without_bob.id, &second.id].map(String::clone)
    );
    assert!(listed(&mut client, DAVE).await.is_empty());
}
