//! The platform-backend dialect (seed 002), end to end on two gateways: two platforms with keys
//! made by the operator's command, users provisioned by `POST /token` with token pairs, chats by
//! the platforms' own ids (the document's workflow, a participant added later, the chat
//! deleted), and tenancy tried on every route with the other platform's key and ids.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Backend, Stack, spawn_stack};

backend_tests!(
    backend_keys_are_required_on_every_backend_route,
    tokens_provision_users_once_per_platform_and_refresh_tokens_rotate,
    chats_follow_the_documents_workflow_within_their_platform,
);

const PREFIXES: [&str; 2] = ["/backend", ""];

/// Every backend route of the dialect, for `chat`.
fn backend_routes(chat: &str) -> Vec<(Method, String, Option<Value>)> {
    let mut routes = vec![(
        Method::POST,
        "/token".to_owned(),
        Some(json!({"userID": "u1"})),
    )];
    for prefix in PREFIXES {
        let users = format!("{prefix}/chats/{chat}/users");
        routes.push((Method::PUT, users.clone(), Some(json!({"users": ["u1"]}))));
        routes.push((Method::GET, users.clone(), None));
        routes.push((Method::DELETE, users, Some(json!({"users": ["u1"]}))));
        routes.push((Method::DELETE, format!("{prefix}/chats/{chat}"), None));
    }
    routes
}

/// Provisions `user` on the platform of `key` through `replica`: its GUID and token pair.
async fn provision(stack: &Stack, replica: usize, key: &str, user: &str, name: &str) -> Value {
    let body = json!({"userID": user, "displayName": name});
    let (status, pair) = stack
        .call(replica, Method::POST, "/token", Some(key), Some(body))
        .await;
    assert_eq!(status, 200, "{pair}");
    pair
}

fn guid(pair: &Value) -> String {
    pair["GUID"].as_str().expect("a GUID").to_owned()
}

async fn backend_keys_are_required_on_every_backend_route(backend: Backend) {
    let stack = spawn_stack(backend, 1).await;
    let key = stack.auth_store.create_platform("acme").await;
    assert!(key.starts_with("pk_") && key.len() > 40, "{key}");
    for (method, path, body) in backend_routes("chat-1") {
        for token in [None, Some("pk_wrong"), Some("")] {
            let (status, answer) = stack
                .call(0, method.clone(), &path, token, body.clone())
                .await;
            assert_eq!(status, 401, "{method} {path} with {token:?}: {answer}");
            assert_eq!(answer, json!({"error": "Unauthorized"}), "{method} {path}");
        }
    }
    // A user's access token is not a backend key.
    let pair = provision(&stack, 0, &key, "u1", "U").await;
    let access = pair["accessToken"].as_str().expect("a token");
    let (status, _) = stack
        .call(
            0,
            Method::GET,
            "/backend/chats/chat-1/users",
            Some(access),
            None,
        )
        .await;
    assert_eq!(status, 401);
    // A revoked key is refused from then on.
    stack.auth_store.revoke_platform("acme").await;
    let (status, answer) = stack
        .call(
            0,
            Method::POST,
            "/token",
            Some(&key),
            Some(json!({"userID": "u2"})),
        )
        .await;
    assert_eq!((status, answer), (401, json!({"error": "Unauthorized"})));
}

async fn tokens_provision_users_once_per_platform_and_refresh_tokens_rotate(backend: Backend) {
    let stack = spawn_stack(backend, 2).await;
    let acme = stack.auth_store.create_platform("acme").await;
    let globex = stack.auth_store.create_platform("globex").await;

    let first = provision(&stack, 0, &acme, "John.Doe-mobile1", "John").await;
    assert_eq!(first["userID"], "John.Doe-mobile1");
    assert_eq!(first["tokenType"], "Bearer");
    assert_eq!(first["created"], true);
    let expires: i64 = first["accessTokenExpiresAt"]
        .as_str()
        .and_then(|ms| ms.parse().ok())
        .expect("Unix ms as a string");
    assert!(expires > chrono::Utc::now().timestamp_millis());
    assert!(first["expiresIn"].as_i64().expect("seconds") > 0);
    // Again, on the other replica: the same user, a new pair.
    let again = provision(&stack, 1, &acme, "John.Doe-mobile1", "John").await;
    assert_eq!(
        (guid(&again), &again["created"]),
        (guid(&first), &json!(false))
    );
    assert_ne!(again["accessToken"], first["accessToken"]);
    // User ids are case-sensitive, and scoped to their platform.
    let lower = provision(&stack, 0, &acme, "john.doe-mobile1", "john").await;
    assert_ne!(guid(&lower), guid(&first));
    let elsewhere = provision(&stack, 1, &globex, "John.Doe-mobile1", "Other").await;
    assert_ne!(guid(&elsewhere), guid(&first));
    assert_eq!(elsewhere["created"], true);

    for bad in [
        json!({"userID": "John Doe"}),
        json!({"userID": ""}),
        json!({"userID": "a/b"}),
        json!({"displayName": "nobody"}),
        json!({"userID": 7}),
    ] {
        let (status, answer) = stack
            .call(0, Method::POST, "/token", Some(&acme), Some(bad.clone()))
            .await;
        assert_eq!(
            (status, answer),
            (400, json!({"error": "Invalid parameters"})),
            "{bad}"
        );
    }
    let (status, answer) = stack
        .raw_with_token(0, Method::POST, "/token", &acme, "{")
        .await;
    assert_eq!(
        (status, answer),
        (400, json!({"error": "Invalid parameters"}))
    );

    // The access token is an ordinary token of the product: the native API takes it.
    let access = first["accessToken"].as_str().expect("token").to_owned();
    let (status, groups) = stack.get(1, "/groups", &access).await;
    assert_eq!((status, groups), (200, json!([])));

    // Refresh: single use, rotating; reusing a spent one revokes the family.
    let refresh = first["refreshToken"]
        .as_str()
        .expect("refresh token")
        .to_owned();
    let (status, next) = stack
        .call(
            1,
            Method::POST,
            "/token/refresh",
            None,
            Some(json!({"refreshToken": refresh})),
        )
        .await;
    assert_eq!(status, 200, "{next}");
    assert_eq!(guid(&next), guid(&first));
    assert_ne!(next["refreshToken"], first["refreshToken"]);
    let rotated = next["accessToken"].as_str().expect("token").to_owned();
    assert_eq!(stack.get(0, "/groups", &rotated).await.0, 200);
    let (status, answer) = stack
        .call(
            0,
            Method::POST,
            "/token/refresh",
            None,
            Some(json!({"refreshToken": refresh})),
        )
        .await;
    assert_eq!(
        (status, answer),
        (401, json!({"error": "Refresh token reused"}))
    );
    // The family is gone: its access tokens and its newest refresh token.
    assert_eq!(stack.get(0, "/groups", &rotated).await.0, 401);
    assert_eq!(stack.get(1, "/groups", &access).await.0, 401);
    let (status, _) = stack
        .call(
            1,
            Method::POST,
            "/token/refresh",
            None,
            Some(json!({"refreshToken": next["refreshToken"]})),
        )
        .await;
    assert_eq!(status, 401);
    // Another session of the same user (the second POST /token) lives on.
    let other = again["accessToken"].as_str().expect("token");
    assert_eq!(stack.get(1, "/groups", other).await.0, 200);
    let (status, answer) = stack
        .call(
            0,
            Method::POST,
            "/token/refresh",
            None,
            Some(json!({"refreshToken": "nope"})),
        )
        .await;
    assert_eq!(
        (status, answer),
        (401, json!({"error": "Invalid refresh token"}))
    );
}

async fn chats_follow_the_documents_workflow_within_their_platform(backend: Backend) {
    let stack = spawn_stack(backend, 2).await;
    let acme = stack.auth_store.create_platform("acme").await;
    let globex = stack.auth_store.create_platform("globex").await;
    let john = guid(&provision(&stack, 0, &acme, "John.Doe-mobile1", "User2 display name").await);
    let user2222 = guid(&provision(&stack, 1, &acme, "user2222", "User1 display name").await);
    let carol = guid(&provision(&stack, 0, &acme, "carol", "").await);
    let zed = guid(&provision(&stack, 1, &globex, "zed", "Zed").await);
    let globex_john = guid(&provision(&stack, 1, &globex, "John.Doe-mobile1", "").await);

    // Step 3: the chat is created with its first participants, the first listed its owner.
    let body = json!({"users": ["user2222", "John.Doe-mobile1"], "chatName": "This is the chat description"});
    let (status, answer) = stack
        .call(
            0,
            Method::PUT,
            "/backend/chats/best-chat/users",
            Some(&acme),
            Some(body),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer, json!({"GUIDList": [user2222, john]}));
    // The other platform's chat of the same id is another chat.
    let (status, answer) = stack
        .call(
            1,
            Method::PUT,
            "/chats/best-chat/users",
            Some(&globex),
            Some(json!({"users": ["zed"]})),
        )
        .await;
    assert_eq!((status, answer), (200, json!({"GUIDList": [zed]})));

    let (status, shown) = stack
        .call(
            1,
            Method::GET,
            "/backend/chats/best-chat/users",
            Some(&acme),
            None,
        )
        .await;
    assert_eq!(status, 200, "{shown}");
    let chat = &shown["chat"];
    assert_eq!(chat["chatID"], "best-chat");
    assert_eq!(chat["chatName"], "This is the chat description");
    assert_eq!(chat["ownerGUID"], json!(user2222));
    let created: i64 = chat["creationTime"]
        .as_str()
        .and_then(|t| t.parse().ok())
        .expect("ms");
    let updated: i64 = chat["updateTime"]
        .as_str()
        .and_then(|t| t.parse().ok())
        .expect("ms");
    assert!(created > 1_600_000_000_000 && updated >= created, "{chat}");
    assert_eq!(
        chat["users"],
        json!([
            {"GUID": user2222, "userID": "user2222", "displayName": "User1 display name"},
            {"GUID": john, "userID": "John.Doe-mobile1", "displayName": "User2 display name"},
        ])
    );
    // The same chat is an ordinary group of the shared model: its members see it natively.
    let token = provision(&stack, 0, &acme, "John.Doe-mobile1", "User2 display name").await;
    let (status, groups) = stack
        .get(1, "/groups", token["accessToken"].as_str().expect("token"))
        .await;
    assert_eq!(status, 200);
    assert_eq!(groups.as_array().map(Vec::len), Some(1), "{groups}");

    // A participant added later, through the short path on the other replica; listing a
    // member again changes nothing.
    let (status, answer) = stack
        .call(
            1,
            Method::PUT,
            "/chats/best-chat/users",
            Some(&acme),
            Some(json!({"users": ["carol", "user2222"]})),
        )
        .await;
    assert_eq!(
        (status, answer),
        (200, json!({"GUIDList": [carol, user2222]}))
    );
    let users = chat_users(&stack, &acme, "best-chat").await;
    assert_eq!(users, vec![user2222.clone(), john.clone(), carol.clone()]);

    // Tenancy: another platform's users, chats and keys change and show nothing.
    for (users, why) in [
        (json!(["zed"]), "another platform's user"),
        (json!(["nobody"]), "an unknown user"),
    ] {
        let body = json!({"users": users});
        let (status, answer) = stack
            .call(
                0,
                Method::PUT,
                "/backend/chats/best-chat/users",
                Some(&acme),
                Some(body.clone()),
            )
            .await;
        assert_eq!(
            (status, answer),
            (400, json!({"error": "Invalid parameters"})),
            "{why}"
        );
        let (status, answer) = stack
            .call(
                0,
                Method::DELETE,
                "/backend/chats/best-chat/users",
                Some(&acme),
                Some(body),
            )
            .await;
        assert_eq!(
            (status, answer),
            (400, json!({"error": "Bad request"})),
            "{why}"
        );
    }
    let (status, answer) = stack
        .call(
            0,
            Method::PUT,
            "/backend/chats/new-chat/users",
            Some(&acme),
            Some(json!({"users": ["carol", "zed"]})),
        )
        .await;
    assert_eq!(
        (status, answer),
        (400, json!({"error": "Invalid parameters"}))
    );
    assert_eq!(
        get_status(&stack, &acme, "new-chat").await,
        404,
        "nothing was created"
    );
    let (status, answer) = stack
        .call(
            1,
            Method::GET,
            "/backend/chats/best-chat/users",
            Some(&globex),
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        answer["chat"]["users"],
        json!([{"GUID": zed, "userID": "zed", "displayName": "Zed"}])
    );
    assert_eq!(
        answer["chat"]["chatName"], "best-chat",
        "named by its id when not given"
    );
    let only_acme = "acme-only";
    let (status, _) = stack
        .call(
            0,
            Method::PUT,
            &format!("/chats/{only_acme}/users"),
            Some(&acme),
            Some(json!({"users": ["carol"]})),
        )
        .await;
    assert_eq!(status, 200);
    for (method, path, body) in backend_routes(only_acme).into_iter().skip(1) {
        let body = body.map(|_| json!({"users": ["zed"]}));
        let (status, answer) = stack
            .call(1, method.clone(), &path, Some(&globex), body)
            .await;
        if method == Method::PUT {
            // PUT creates globex's own chat of that id, never touching acme's.
            assert_eq!(
                (status, answer),
                (200, json!({"GUIDList": [zed]})),
                "{path}"
            );
        } else if method == Method::GET {
            assert_eq!(status, 200, "{path}: {answer}");
            assert_eq!(answer["chat"]["users"].as_array().map(Vec::len), Some(1));
        } else {
            assert!(
                matches!(status, 200 | 404),
                "{method} {path}: {status} {answer}"
            );
        }
    }
    assert_eq!(
        chat_users(&stack, &acme, only_acme).await,
        vec![carol.clone()]
    );
    let _ = globex_john;

    // Invalid chat ids: each route's own text.
    for bad in ["bad%20id", "bad%2Fid", "caf%C3%A9"] {
        for prefix in PREFIXES {
            let users = format!("{prefix}/chats/{bad}/users");
            let (status, answer) = stack
                .call(
                    0,
                    Method::PUT,
                    &users,
                    Some(&acme),
                    Some(json!({"users": ["carol"]})),
                )
                .await;
            assert_eq!(
                (status, answer),
                (400, json!({"error": "Invalid parameters"})),
                "{users}"
            );
            let (status, answer) = stack.call(0, Method::GET, &users, Some(&acme), None).await;
            assert_eq!(
                (status, answer),
                (400, json!({"error": "Invalid chatID"})),
                "{users}"
            );
            let (status, answer) = stack
                .call(
                    0,
                    Method::DELETE,
                    &users,
                    Some(&acme),
                    Some(json!({"users": ["carol"]})),
                )
                .await;
            assert_eq!(
                (status, answer),
                (400, json!({"error": "Bad request"})),
                "{users}"
            );
            let chat = format!("{prefix}/chats/{bad}");
            let (status, answer) = stack
                .call(0, Method::DELETE, &chat, Some(&acme), None)
                .await;
            assert_eq!(
                (status, answer),
                (400, json!({"error": "Invalid chatID"})),
                "{chat}"
            );
        }
    }
    // Bad bodies and unknown chats.
    for body in [
        json!({}),
        json!({"users": []}),
        json!({"users": "carol"}),
        json!({"users": ["bad id"]}),
    ] {
        let (status, answer) = stack
            .call(
                0,
                Method::PUT,
                "/backend/chats/best-chat/users",
                Some(&acme),
                Some(body.clone()),
            )
            .await;
        assert_eq!(
            (status, answer),
            (400, json!({"error": "Invalid parameters"})),
            "{body}"
        );
    }
    let (status, answer) = stack
        .raw_with_token(
            0,
            Method::PUT,
            "/backend/chats/best-chat/users",
            &acme,
            "{\"users\":",
        )
        .await;
    assert_eq!(
        (status, answer),
        (400, json!({"error": "Invalid parameters"}))
    );
    for path in [
        "/backend/chats/no-such-chat/users",
        "/chats/no-such-chat/users",
    ] {
        let (status, answer) = stack.call(0, Method::GET, path, Some(&acme), None).await;
        assert_eq!(
            (status, answer),
            (404, json!({"error": "ChatID not found"}))
        );
        let (status, answer) = stack
            .call(
                0,
                Method::DELETE,
                path,
                Some(&acme),
                Some(json!({"users": ["carol"]})),
            )
            .await;
        assert_eq!(
            (status, answer),
            (404, json!({"error": "ChatID not found"}))
        );
    }
    let (status, answer) = stack
        .call(
            0,
            Method::DELETE,
            "/backend/chats/no-such-chat",
            Some(&acme),
            None,
        )
        .await;
    assert_eq!(
        (status, answer),
        (404, json!({"error": "ChatID not found"}))
    );
    assert_eq!(
        chat_users(&stack, &acme, "best-chat").await,
        vec![user2222.clone(), john.clone(), carol.clone()],
        "nothing refused changed anything"
    );

    // Removing users; a user who is not a member is skipped.
    let (status, answer) = stack
        .call(
            1,
            Method::DELETE,
            "/backend/chats/best-chat/users",
            Some(&acme),
            Some(json!({"users": ["carol"]})),
        )
        .await;
    assert_eq!((status, answer), (200, Value::Null));
    let (status, _) = stack
        .call(
            0,
            Method::DELETE,
            "/chats/best-chat/users",
            Some(&acme),
            Some(json!({"users": ["carol"]})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        chat_users(&stack, &acme, "best-chat").await,
        vec![user2222.clone(), john.clone()]
    );

    // Step 6: the chat is closed; globex's chat of the same id stays.
    let (status, answer) = stack
        .call(0, Method::DELETE, "/chats/best-chat", Some(&acme), None)
        .await;
    assert_eq!((status, answer), (200, Value::Null));
    assert_eq!(get_status(&stack, &acme, "best-chat").await, 404);
    assert_eq!(get_status(&stack, &globex, "best-chat").await, 200);
    let (status, groups) = stack
        .get(0, "/groups", token["accessToken"].as_str().expect("token"))
        .await;
    assert_eq!((status, groups), (200, json!([])));
    // The id is free again; removing the owner deletes the chat too.
    let (status, _) = stack
        .call(
            1,
            Method::PUT,
            "/backend/chats/best-chat/users",
            Some(&acme),
            Some(json!({"users": ["carol", "john.doe-mobile1"]})),
        )
        .await;
    assert_eq!(status, 400, "john.doe-mobile1 was never provisioned");
    let (status, answer) = stack
        .call(
            1,
            Method::PUT,
            "/backend/chats/best-chat/users",
            Some(&acme),
            Some(json!({"users": ["carol", "John.Doe-mobile1"]})),
        )
        .await;
    assert_eq!((status, answer), (200, json!({"GUIDList": [carol, john]})));
    let (status, _) = stack
        .call(
            0,
            Method::DELETE,
            "/backend/chats/best-chat/users",
            Some(&acme),
            Some(json!({"users": ["carol"]})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        get_status(&stack, &acme, "best-chat").await,
        404,
        "the owner left: deleted"
    );
}

async fn chat_users(stack: &Stack, key: &str, chat: &str) -> Vec<String> {
    let (status, shown) = stack
        .call(
            0,
            Method::GET,
            &format!("/backend/chats/{chat}/users"),
            Some(key),
            None,
        )
        .await;
    assert_eq!(status, 200, "{shown}");
    shown["chat"]["users"]
        .as_array()
        .expect("users")
        .iter()
        .map(|user| user["GUID"].as_str().expect("GUID").to_owned())
        .collect()
}

async fn get_status(stack: &Stack, key: &str, chat: &str) -> u16 {
    stack
        .call(
            1,
            Method::GET,
            &format!("/backend/chats/{chat}/users"),
            Some(key),
            None,
        )
        .await
        .0
}
