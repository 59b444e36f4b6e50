//! The behaviour every `PresenceStore` must show, written once and run against each store.

use std::time::Duration;

use presence_service::{PresenceStore, UserLocation};
use tokio::time::sleep;

crate::backends::conformance_tests!(
    online_session_is_located_on_its_node,
    sessions_on_two_nodes_list_both_nodes,
    offline_removes_only_that_session,
    session_expires_after_its_ttl,
    refresh_keeps_sessions_alive_past_their_first_ttl,
    refresh_brings_back_an_expired_session,
    locate_skips_unknown_users_and_keeps_input_order,
    typing_starts_stops_and_expires,
    online_by_node_counts_live_sessions_per_node,
);

const LONG: Duration = Duration::from_secs(60);

fn ids(values: &[&str]) -> Vec<String> {
    values.iter().map(|value| (*value).to_owned()).collect()
}

fn located(user_id: &str, node_ids: &[&str], sessions: u32) -> UserLocation {
    UserLocation {
        user_id: user_id.to_owned(),
        node_ids: ids(node_ids),
        sessions,
    }
}

async fn locate(store: &impl PresenceStore, user_ids: &[&str]) -> Vec<UserLocation> {
    store.locate(&ids(user_ids)).await.expect("locate")
}

pub async fn online_session_is_located_on_its_node(store: impl PresenceStore) {
    store
        .session_online("alice", "s1", "node-a", LONG)
        .await
        .expect("online");
    assert_eq!(
        locate(&store, &["alice"]).await,
        [located("alice", &["node-a"], 1)]
    );
}

pub async fn sessions_on_two_nodes_list_both_nodes(store: impl PresenceStore) {
    store
        .session_online("alice", "phone", "node-b", LONG)
        .await
        .expect("online");
    store
        .session_online("alice", "laptop", "node-a", LONG)
        .await
        .expect("online");
    assert_eq!(
        locate(&store, &["alice"]).await,
        [located("alice", &["node-a", "node-b"], 2)]
    );
}

pub async fn offline_removes_only_that_session(store: impl PresenceStore) {
    store
        .session_online("alice", "s1", "node-a", LONG)
        .await
        .expect("online");
    store
        .session_online("alice", "s2", "node-b", LONG)
        .await
        .expect("online");
    store
        .session_online("alice", "s3", "node-b", LONG)
        .await
        .expect("online");

    store
        .session_offline("alice", "s1", "node-a")
        .await
        .expect("offline");
    assert_eq!(
        locate(&store, &["alice"]).await,
        [located("alice", &["node-b"], 2)]
    );

    // A node can only let go of sessions it holds.
    store
        .session_offline("alice", "s2", "node-a")
        .await
        .expect("offline");
    assert_eq!(
        locate(&store, &["alice"]).await,
        [located("alice", &["node-b"], 2)]
    );

    store
        .session_offline("alice", "s2", "node-b")
        .await
        .expect("offline");
    store
        .session_offline("alice", "s3", "node-b")
        .await
        .expect("offline");
    assert_eq!(locate(&store, &["alice"]).await, []);
}

pub async fn session_expires_after_its_ttl(store: impl PresenceStore) {
    store
        .session_online("alice", "s1", "node-a", Duration::from_millis(300))
        .await
        .expect("online");
    store
        .session_online("bob", "s1", "node-a", LONG)
        .await
        .expect("online");
    assert_eq!(locate(&store, &["alice"]).await.len(), 1);

    sleep(Duration::from_millis(500)).await;
    assert_eq!(
        locate(&store, &["alice", "bob"]).await,
        [located("bob", &["node-a"], 1)]
    );
}

pub async fn refresh_keeps_sessions_alive_past_their_first_ttl(store: impl PresenceStore) {
    let ttl = Duration::from_millis(600);
    store
        .session_online("alice", "s1", "node-a", ttl)
        .await
        .expect("online");
    store
        .session_online("bob", "s2", "node-a", ttl)
        .await
        .expect("online");
    store
        .session_online("carol", "s3", "node-a", ttl)
        .await
        .expect("online");

    sleep(Duration::from_millis(350)).await;
    let held = [
        ("alice".to_owned(), "s1".to_owned()),
        ("bob".to_owned(), "s2".to_owned()),
    ];
    store.refresh("node-a", &held, ttl).await.expect("refresh");

    // Past the first ttl: the refreshed sessions stay, carol's (not refreshed) is gone.
    sleep(Duration::from_millis(350)).await;
    assert_eq!(
        locate(&store, &["alice", "bob", "carol"]).await,
        [
            located("alice", &["node-a"], 1),
            located("bob", &["node-a"], 1)
        ]
    );

    // The node stops refreshing (it died): its sessions go offline on their own.
    sleep(Duration::from_millis(400)).await;
    assert_eq!(locate(&store, &["alice", "bob"]).await, []);
}

pub async fn refresh_brings_back_an_expired_session(store: impl PresenceStore) {
    store
        .session_online("alice", "s1", "node-a", Duration::from_millis(100))
        .await
        .expect("online");
    sleep(Duration::from_millis(250)).await;
    assert_eq!(locate(&store, &["alice"]).await, []);

    // The node still holds the socket, so its heartbeat puts the session back.
    let held = [("alice".to_owned(), "s1".to_owned())];
    store.refresh("node-a", &held, LONG).await.expect("refresh");
    assert_eq!(
        locate(&store, &["alice"]).await,
        [located("alice", &["node-a"], 1)]
    );
    store
        .refresh("node-a", &[], LONG)
        .await
        .expect("empty refresh");
}

pub async fn locate_skips_unknown_users_and_keeps_input_order(store: impl PresenceStore) {
    for (user_id, node_id) in [("carol", "node-c"), ("alice", "node-a"), ("bob", "node-b")] {
        store
            .session_online(user_id, "s1", node_id, LONG)
            .await
            .expect("online");
    }
    assert_eq!(
        locate(&store, &["bob", "nobody", "alice", "carol", "bob", "ghost"]).await,
        [
            located("bob", &["node-b"], 1),
            located("alice", &["node-a"], 1),
            located("carol", &["node-c"], 1),
        ]
    );
    assert_eq!(locate(&store, &["nobody", "ghost"]).await, []);
    assert_eq!(locate(&store, &[]).await, []);
}

pub async fn typing_starts_stops_and_expires(store: impl PresenceStore) {
    let list = |conversation_id: &'static str| {
        let store = &store;
        async move {
            store
                .list_typing(conversation_id)
                .await
                .expect("list typing")
        }
    };
    store
        .set_typing("conv-1", "bob", true, LONG)
        .await
        .expect("typing");
    store
        .set_typing("conv-1", "alice", true, LONG)
        .await
        .expect("typing");
    store
        .set_typing("conv-2", "carol", true, LONG)
        .await
        .expect("typing");
    assert_eq!(list("conv-1").await, ["alice", "bob"]);
    assert_eq!(list("conv-2").await, ["carol"]);
    assert!(list("conv-unknown").await.is_empty());

    store
        .set_typing("conv-1", "alice", false, Duration::ZERO)
        .await
        .expect("stop");
    assert_eq!(list("conv-1").await, ["bob"]);
    // Stopping when not typing changes nothing.
    store
        .set_typing("conv-1", "alice", false, Duration::ZERO)
        .await
        .expect("stop");

    store
        .set_typing("conv-1", "dave", true, Duration::from_millis(300))
        .await
        .expect("typing");
    assert_eq!(list("conv-1").await, ["bob", "dave"]);
    sleep(Duration::from_millis(500)).await;
    assert_eq!(list("conv-1").await, ["bob"]);
}

pub async fn online_by_node_counts_live_sessions_per_node(store: impl PresenceStore) {
    assert_eq!(store.online_by_node().await.expect("count"), []);
    for (user, session, node) in [
        ("alice", "phone", "node-b"),
        ("alice", "laptop", "node-a"),
        ("bob", "s1", "node-a"),
        ("carol", "s1", "node-a"),
    ] {
        store
            .session_online(user, session, node, LONG)
            .await
            .expect("online");
    }
    store
        .session_online("dave", "s1", "node-c", Duration::from_millis(200))
        .await
        .expect("online");
    store
        .session_offline("carol", "s1", "node-a")
        .await
        .expect("offline");
    sleep(Duration::from_millis(400)).await;
    assert_eq!(
        store.online_by_node().await.expect("count"),
        [("node-a".to_owned(), 2), ("node-b".to_owned(), 1)],
        "by node id; offline and expired sessions left out"
    );
}
