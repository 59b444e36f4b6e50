//! The messenger's HTTP users: registration, login (a JWT), reading, updating and deleting the
//! account — and what a deletion does to sockets, tokens and messages.

use reqwest::Method;
use serde_json::{Value, json};

use crate::echat_client::refused_handshake;
use crate::helpers::{Backend, Socket, spawn_stack};
use crate::messenger_client::{Api, assert_reply, assert_time, request};

backend_tests!(
    users_register_log_in_and_change_their_account,
    a_deleted_user_is_signed_out_everywhere_and_their_messages_stay,
);

#[track_caller]
fn assert_error(reply: &(u16, Value), status: u16, code: &str) {
    assert_eq!(reply.0, status, "{}", reply.1);
    assert_eq!(
        (&reply.1["error"], &reply.1["code"]),
        (&json!(true), &json!(code)),
        "{}",
        reply.1
    );
}

async fn users_register_log_in_and_change_their_account(backend: Backend) {
    let stack = spawn_stack(backend, 1).await;
    let api = Api::new(&stack, 0);
    let body = json!({"email": "Patrick@Mail.com", "password": "secret", "firstName": "Patrick"});
    let (status, user) = api
        .call(Method::POST, "/api/auth/register", None, Some(body))
        .await;
    assert_eq!(status, 201, "{user}");
    assert!(user["id"].as_i64().is_some_and(|id| id > 0), "{user}");
    assert_eq!(
        (&user["email"], &user["firstName"]),
        (&json!("Patrick@Mail.com"), &json!("Patrick"))
    );
    assert_time(&user["createdAt"]);
    let again = json!({"email": "patrick@mail.com", "password": "x", "first_name": "Twin"});
    assert_error(
        &api.call(Method::POST, "/api/users", None, Some(again))
            .await,
        409,
        "email_taken",
    );
    let no_password = json!({"email": "nobody@mail.com"});
    assert_error(
        &api.call(Method::POST, "/api/users", None, Some(no_password))
            .await,
        400,
        "validation_failed",
    );
    let (status, other) = api
        .call(
            Method::POST,
            "/api/users",
            None,
            Some(json!({"email": "other@mail.com", "password": "p"})),
        )
        .await;
    assert_eq!(status, 201, "{other}");

    let wrong = json!({"email": "patrick@mail.com", "password": "wrong"});
    assert_error(
        &api.call(Method::POST, "/api/auth/login", None, Some(wrong))
            .await,
        401,
        "wrong_credentials",
    );
    let unknown = json!({"email": "ghost@mail.com", "password": "secret"});
    assert_error(
        &api.call(Method::POST, "/api/auth/login", None, Some(unknown))
            .await,
        401,
        "wrong_credentials",
    );
    let body = json!({"email": "PATRICK@mail.com", "password": "secret"});
    let (status, login) = api
        .call(Method::POST, "/api/auth/login", None, Some(body))
        .await;
    assert_eq!(
        (status, &login["user"]["id"]),
        (200, &user["id"]),
        "{login}"
    );
    let token = login["token"].as_str().expect("a JWT").to_owned();
    assert_eq!(token.split('.').count(), 3, "a JWT: {token}");

    assert_error(
        &api.call(Method::GET, "/api/users/me", None, None).await,
        401,
        "unauthorized",
    );
    let (status, me) = api
        .call(Method::GET, "/api/users/me", Some(&token), None)
        .await;
    assert_eq!((status, &me["id"]), (200, &user["id"]), "{me}");

    // Changing names, the email (which signs in, here and in the other dialects) and the
    // password; someone else's id is not the caller's to change.
    let changes = json!({"firstName": "Pat", "lastName": "Smith"});
    let (status, changed) = api
        .call(Method::PATCH, "/api/users/me", Some(&token), Some(changes))
        .await;
    assert_eq!(
        (status, &changed["firstName"], &changed["lastName"]),
        (200, &json!("Pat"), &json!("Smith"))
    );
    let path = format!("/api/users/{}", other["id"]);
    let refused = api
        .call(
            Method::PUT,
            &path,
            Some(&token),
            Some(json!({"firstName": "x"})),
        )
        .await;
    assert_error(&refused, 403, "forbidden");
    let taken = json!({"email": "other@mail.com"});
    let path = format!("/api/users/{}", user["id"]);
    assert_error(
        &api.call(Method::PUT, &path, Some(&token), Some(taken))
            .await,
        409,
        "email_taken",
    );
    let changes = json!({"email": "pat@mail.com", "password": "new secret"});
    let (status, changed) = api
        .call(Method::PUT, &path, Some(&token), Some(changes))
        .await;
    assert_eq!(
        (status, &changed["email"]),
        (200, &json!("pat@mail.com")),
        "{changed}"
    );
    api.login("pat@mail.com", "new secret").await;
    let old = json!({"email": "patrick@mail.com", "password": "secret"});
    assert_error(
        &api.call(Method::POST, "/api/auth/login", None, Some(old))
            .await,
        401,
        "wrong_credentials",
    );
    let (status, native) = stack
        .post(
            0,
            "/login",
            None,
            json!({"username": "pat@mail.com", "password": "new secret"}),
        )
        .await;
    assert_eq!(status, 200, "the native login by username: {native}");
}

async fn a_deleted_user_is_signed_out_everywhere_and_their_messages_stay(backend: Backend) {
    let stack = spawn_stack(backend, 2).await;
    let (here, there) = (Api::new(&stack, 0), Api::new(&stack, 1));
    let leaving = here.account("Leaving").await;
    let staying = here.account("Staying").await;
    let mut socket_here = here.socket(&leaving.token).await;
    let mut socket_there = there.socket(&leaving.token).await;
    // The same account on the native protocol: a session and its socket.
    let (_, session) = stack
        .post(
            1,
            "/sessions",
            Some(&leaving.token),
            json!({"device_id": "d", "platform": "web"}),
        )
        .await;
    let mut native = Socket::connect(session["messaging_url"].as_str().expect("url")).await;
    let reply = request(
        &mut socket_here,
        "privateMessage",
        json!({"receiverId": staying.id, "content": "bye"}),
    )
    .await;
    assert_reply(&reply, "privateMessage");

    let (status, deleted) = here
        .call(Method::DELETE, "/api/users/me", Some(&leaving.token), None)
        .await;
    assert_eq!(
        (status, &deleted["success"]),
        (200, &json!(true)),
        "{deleted}"
    );
    for socket in [&mut socket_here, &mut socket_there, &mut native] {
        assert_eq!(u16::from(socket.expect_close().await), 1008);
    }
    let me = here
        .call(Method::GET, "/api/users/me", Some(&leaving.token), None)
        .await;
    assert_eq!(me.0, 401, "{}", me.1);
    let mut handshake = there.socket_url();
    handshake.push_str(&format!("?token={}", leaving.token));
    assert_eq!(refused_handshake(handshake).await.0, 401);
    let login = json!({"email": leaving.email, "password": "secret"});
    assert_eq!(
        here.call(Method::POST, "/api/auth/login", None, Some(login))
            .await
            .0,
        401
    );

    // The message stays, from a deleted user with their number; the email is free again.
    let mut peer = there.socket(&staying.token).await;
    let reply = request(&mut peer, "listLastMessage", json!({})).await;
    let chats = assert_reply(&reply, "listLastMessage");
    assert_eq!(
        (
            &chats[0]["content"],
            &chats[0]["senderId"],
            &chats[0]["senderName"]
        ),
        (&json!("bye"), &json!(leaving.id), &json!("Deleted user")),
        "{chats}"
    );
    let reply = request(
        &mut peer,
        "getlatestMessageDialog",
        json!({"receiverId": leaving.id}),
    )
    .await;
    assert_eq!(reply["message"], "User not found", "{reply}");
    let again = here.account("Leaving").await;
    assert_ne!(again.id, leaving.id);
}
