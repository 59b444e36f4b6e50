//! What only the SQLite store has to show: its file is created where asked, outlives the
//! store, and may be shared by two stores at once.

use auth_service::{AuthStore, SqliteAuthStore, StoreError, fold};

use crate::backends::TestDir;
use crate::conformance::{everyone, insert, new_session, new_user};

#[tokio::test]
async fn open_creates_the_file_and_its_directories_and_writes_ahead() {
    let dir = TestDir::new();
    let path = dir.path().join("data").join("nested").join("auth.db");
    let store = SqliteAuthStore::open(&path).await.expect("open");
    assert!(path.is_file(), "{}", path.display());
    insert(&store, "alice", None).await;
    let wal = path.with_file_name("auth.db-wal");
    assert!(wal.is_file(), "WAL journal mode keeps {}", wal.display());
}

#[tokio::test]
async fn reopening_the_file_keeps_users_sessions_and_numbers() {
    let dir = TestDir::new();
    let (alice, bob, kept, revoked) = {
        let store = dir.sqlite_store().await;
        let alice = insert(&store, "Алиса", Some("alice@example.com")).await;
        let bob = insert(&store, "bob", None).await;
        let kept = store.insert_session(new_session(alice.id, "phone")).await;
        let revoked = store.insert_session(new_session(alice.id, "laptop")).await;
        let (kept, revoked) = (kept.expect("insert"), revoked.expect("insert"));
        let result = store.revoke_session(alice.id, revoked.id).await;
        assert_eq!(result.expect("revoke"), Some(revoked.connection_id));
        (alice, bob, kept, revoked)
    };

    let store = dir.sqlite_store().await;
    assert_eq!(everyone(&store).await, [alice.clone(), bob.clone()]);
    let found = store.credentials_by_username(&fold("АЛИСА")).await;
    let credentials = found.expect("lookup").expect("found after reopening");
    assert_eq!(credentials.user, alice);
    let resolved = store.identity_by_connection(kept.connection_id).await;
    let identity = resolved.expect("resolve").expect("a live session lives on");
    assert_eq!(identity.session_id, Some(kept.id));
    let resolved = store.identity_by_connection(revoked.connection_id).await;
    assert_eq!(resolved.expect("resolve"), None, "a revocation lasts");

    let result = store.insert_user(new_user("ALICE@example.com", None)).await;
    assert!(result.is_ok(), "a username may look like someone's email");
    let result = store.insert_user(new_user("BOB", None)).await;
    assert!(
        matches!(result, Err(StoreError::UsernameTaken)),
        "{result:?}"
    );
    let carol = insert(&store, "carol", None).await;
    assert!(
        carol.number > bob.number,
        "numbers go on where they stopped"
    );
}

#[tokio::test]
async fn two_stores_on_one_file_race_like_two_connections() {
    let dir = TestDir::new();
    let (first, second) = (dir.sqlite_store().await, dir.sqlite_store().await);
    let (a, b) = tokio::join!(
        first.insert_user(new_user("racer", None)),
        second.insert_user(new_user("RACER", None)),
    );
    let (won, lost) = if a.is_ok() { (a, b) } else { (b, a) };
    let won = won.expect("one registration wins");
    assert!(matches!(lost, Err(StoreError::UsernameTaken)), "{lost:?}");
    assert_eq!(second.user_by_id(won.id).await.expect("lookup"), Some(won));
}
