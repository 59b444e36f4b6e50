//! What `RedisPresence` leaves in Redis: keys that expire on their own once their members have.

use std::time::Duration;

use presence_service::PresenceStore;
use redis::AsyncCommands;

use crate::backends::TestRedis;

#[tokio::test]
async fn keys_outlive_their_newest_member_and_no_longer() {
    let redis = TestRedis::connect().await;
    let store = redis.store();
    let mut connection = redis.connection();
    let key = format!("{}presence:alice", redis.prefix);

    store
        .session_online("alice", "s1", "node-a", Duration::from_secs(60))
        .await
        .expect("online");
    let ttl: i64 = connection.pttl(&key).await.expect("PTTL");
    assert!((50_000..=60_000).contains(&ttl), "key ttl {ttl} ms");

    // A shorter session does not cut the key's life short under the longer one.
    store
        .session_online("alice", "s2", "node-a", Duration::from_secs(1))
        .await
        .expect("online");
    let ttl: i64 = connection.pttl(&key).await.expect("PTTL");
    assert!(ttl > 50_000, "key ttl {ttl} ms");

    // A longer one stretches it.
    store
        .refresh(
            "node-b",
            &[("alice".to_owned(), "s3".to_owned())],
            Duration::from_secs(120),
        )
        .await
        .expect("refresh");
    let ttl: i64 = connection.pttl(&key).await.expect("PTTL");
    assert!(ttl > 110_000, "key ttl {ttl} ms");

    for (session_id, node_id) in [("s1", "node-a"), ("s2", "node-a"), ("s3", "node-b")] {
        store
            .session_offline("alice", session_id, node_id)
            .await
            .expect("offline");
    }
    let exists: bool = connection.exists(&key).await.expect("EXISTS");
    assert!(!exists, "a user with no session keeps no key");

    store
        .set_typing("conv-1", "bob", true, Duration::from_millis(200))
        .await
        .expect("typing");
    tokio::time::sleep(Duration::from_millis(400)).await;
    let exists: bool = connection
        .exists(format!("{}typing:conv-1", redis.prefix))
        .await
        .expect("EXISTS");
    assert!(!exists, "an expired typing key is gone");
    redis.cleanup().await;
}
