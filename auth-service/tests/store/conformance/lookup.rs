//! Looking users up by ids and numbers, and searching them by username.

use auth_service::{AuthStore, fold};
use uuid::Uuid;

use super::{insert, usernames};

pub async fn users_by_ids_and_numbers_leave_unknown_ones_out(store: impl AuthStore) {
    let alice = insert(&store, "alice", None).await;
    let bob = insert(&store, "bob", None).await;
    let carol = insert(&store, "carol", None).await;

    let found = store
        .users_by_ids(&[], &[carol.number, alice.number, 999_999])
        .await;
    assert_eq!(found.expect("lookup"), [alice.clone(), carol.clone()]);
    let found = store
        .users_by_ids(&[carol.id, Uuid::new_v4(), alice.id], &[])
        .await;
    assert_eq!(found.expect("lookup"), [alice.clone(), carol.clone()]);
    // A user asked for by id and by number comes back once.
    let found = store
        .users_by_ids(&[bob.id, Uuid::new_v4()], &[bob.number, alice.number])
        .await;
    assert_eq!(found.expect("lookup"), [alice, bob]);
    let found = store.users_by_ids(&[], &[]).await.expect("lookup");
    assert!(found.is_empty());
}

pub async fn search_is_contains_and_case_insensitive_in_any_script(store: impl AuthStore) {
    for username in ["Вася", "васятка", "Петя", "ВАСИЛИЙ", "Alice", "malice"]
    {
        insert(&store, username, None).await;
    }
    let search = |query: &'static str, limit: u32| {
        let store = &store;
        async move {
            store
                .search_users(&fold(query), limit)
                .await
                .expect("search")
        }
    };
    let found = search("ВАС", 20).await;
    assert_eq!(usernames(&found), ["Вася", "васятка", "ВАСИЛИЙ"]);
    assert_eq!(usernames(&search("вас", 1).await), ["Вася"]);
    assert_eq!(usernames(&search("ся", 20).await), ["Вася", "васятка"]);
    assert_eq!(usernames(&search("LIC", 20).await), ["Alice", "malice"]);
    assert_eq!(usernames(&search("ЕТ", 20).await), ["Петя"]);
    assert!(search("nobody", 20).await.is_empty());
}

pub async fn search_treats_wildcards_as_text(store: impl AuthStore) {
    for username in [
        "pro%cent",
        "procent",
        "under_score",
        "underscore",
        "back\\slash",
        "backslash",
    ] {
        insert(&store, username, None).await;
    }
    for (query, expected) in [
        ("o%c", "pro%cent"),
        ("%", "pro%cent"),
        ("r_s", "under_score"),
        ("_", "under_score"),
        ("k\\s", "back\\slash"),
        ("\\", "back\\slash"),
    ] {
        let found = store.search_users(query, 20).await.expect("search");
        assert_eq!(usernames(&found), [expected], "{query}");
    }
}

pub async fn listing_pages_every_user_by_number_without_the_deleted(store: impl AuthStore) {
    let alice = insert(&store, "alice", None).await;
    let bob = insert(&store, "bob", None).await;
    let carol = insert(&store, "carol", None).await;
    let dave = insert(&store, "dave", None).await;
    store
        .delete_user(carol.id)
        .await
        .expect("delete")
        .expect("carol existed");

    let first = store.list_users(0, 2).await.expect("list");
    assert_eq!(usernames(&first), ["alice", "bob"]);
    let rest = store.list_users(bob.number, 2).await.expect("list");
    assert_eq!(usernames(&rest), ["dave"]);
    assert!(
        store
            .list_users(dave.number, 2)
            .await
            .expect("list")
            .is_empty()
    );
    assert_eq!(
        usernames(&store.list_users(alice.number, 10).await.expect("list")),
        ["bob", "dave"]
    );
}
