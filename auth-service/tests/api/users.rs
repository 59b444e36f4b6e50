//! Looking users up by id or number, and searching them by username in any script.

use chat_proto::auth::{GetUsersRequest, SearchUsersRequest};

use crate::helpers::{Backend, register, spawn_auth};

crate::helpers::backend_tests!(
    search_is_case_insensitive_in_cyrillic,
    search_treats_wildcards_as_text,
    get_users_by_numbers_and_ids_leaves_unknown_ones_out,
);

fn usernames(users: &[chat_proto::auth::User]) -> Vec<&str> {
    users.iter().map(|user| user.username.as_str()).collect()
}

async fn search_is_case_insensitive_in_cyrillic(backend: Backend) {
    let mut auth = spawn_auth(backend).await;
    for username in ["Вася", "васятка", "Петя", "ВАСИЛИЙ"] {
        register(&mut auth.client, username, "").await;
    }
    let search = SearchUsersRequest {
        query: "ВАС".to_owned(),
        limit: 0,
    };
    let found = auth
        .client
        .search_users(search)
        .await
        .expect("search works");
    assert_eq!(
        usernames(&found.into_inner().users),
        ["Вася", "васятка", "ВАСИЛИЙ"]
    );

    let search = SearchUsersRequest {
        query: "вас".to_owned(),
        limit: 1,
    };
    let found = auth
        .client
        .search_users(search)
        .await
        .expect("search works");
    assert_eq!(usernames(&found.into_inner().users), ["Вася"]);
}

async fn search_treats_wildcards_as_text(backend: Backend) {
    let mut auth = spawn_auth(backend).await;
    for username in ["pro%cent", "procent", "under_score", "underscore"] {
        register(&mut auth.client, username, "").await;
    }
    for (query, expected) in [("o%c", ["pro%cent"]), ("r_s", ["under_score"])] {
        let search = SearchUsersRequest {
            query: query.to_owned(),
            limit: 0,
        };
        let found = auth
            .client
            .search_users(search)
            .await
            .expect("search works");
        assert_eq!(usernames(&found.into_inner().users), expected, "{query}");
    }
}

async fn get_users_by_numbers_and_ids_leaves_unknown_ones_out(backend: Backend) {
    let mut auth = spawn_auth(backend).await;
    let alice = register(&mut auth.client, "alice", "").await;
    let bob = register(&mut auth.client, "bob", "").await;
    let carol = register(&mut auth.client, "carol", "").await;

    let request = GetUsersRequest {
        user_ids: vec![],
        numbers: vec![carol.number, alice.number, 999_999],
    };
    let found = auth.client.get_users(request).await.expect("lookup works");
    assert_eq!(found.into_inner().users, [alice.clone(), carol.clone()]);

    let request = GetUsersRequest {
        user_ids: vec![
            bob.id.clone(),
            "not-a-uuid".to_owned(),
            uuid::Uuid::new_v4().to_string(),
        ],
        numbers: vec![bob.number, alice.number],
    };
    let found = auth.client.get_users(request).await.expect("lookup works");
    assert_eq!(found.into_inner().users, [alice, bob]);

    let found = auth
        .client
        .get_users(GetUsersRequest::default())
        .await
        .expect("an empty lookup works");
    assert!(found.into_inner().users.is_empty());
}
