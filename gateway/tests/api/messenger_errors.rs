//! The messenger socket's refusals: 401 before the upgrade without a valid token, and the error
//! shape for requests that cannot be carried out.

use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

use crate::echat_client::refused_handshake;
use crate::helpers::{Backend, spawn_stack};
use crate::messenger_client::{Api, assert_failure, assert_reply, request};

backend_tests!(
    a_missing_or_bad_token_is_refused_before_the_upgrade,
    bad_requests_answer_in_the_documents_error_shape,
    group_requests_refuse_a_private_dialog,
);

/// The token of the document's own example, which no server of ours signed.
const FOREIGN_TOKEN: &str = "1eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpZCI6MSwiZW1haWwiOiJlbWFpbEBtYWlsLmNvbTAiLCJmaXJzdE5hbWUiOiJQYXRyaWNrMCIsImlhdCI6MTY5MDU0NzU3NiwiZXhwIjoxNjkwNjMzOTc2fQ.AqE87IwBoyI0XlUDnVShjyQGZQd_IQB6L1-bdO_HnhM";

async fn a_missing_or_bad_token_is_refused_before_the_upgrade(backend: Backend) {
    let stack = spawn_stack(backend, 1).await;
    let api = Api::new(&stack, 0);
    let (status, _) = refused_handshake(api.socket_url()).await;
    assert_eq!(status, 401);
    for header in [
        format!("Bearer {FOREIGN_TOKEN}"),
        "Bearer ".to_owned(),
        "Basic eDp5".into(),
    ] {
        let mut request = api.socket_url().into_client_request().expect("request");
        let value = HeaderValue::from_str(&header).expect("header");
        request.headers_mut().insert("authorization", value);
        let (status, body) = refused_handshake(request).await;
        assert_eq!(status, 401, "{header}: {body}");
        assert_eq!(body["error"], true, "{body}");
    }
    // The token of a native session (a JWT of the same issuer) opens it; a plain GET says
    // where things are.
    let user = stack.user(0, "native").await;
    let mut socket = api.socket(&user.token).await;
    let reply = request(&mut socket, "listLastMessage", json!({})).await;
    assert_eq!(assert_reply(&reply, "listLastMessage"), json!([]));
    let (status, pointer) = api.call(reqwest::Method::GET, "/", None, None).await;
    assert_eq!(
        (status, &pointer["docs"]),
        (200, &json!("/api/")),
        "{pointer}"
    );
}

async fn bad_requests_answer_in_the_documents_error_shape(backend: Backend) {
    let stack = spawn_stack(backend, 1).await;
    let api = Api::new(&stack, 0);
    let owner = api.account("Owner").await;
    let other = api.account("Other").await;
    let mut socket = api.socket(&owner.token).await;
    let mut others = api.socket(&other.token).await;

    socket.send_text("{not json").await;
    let reply = socket.next().await;
    assert_eq!(
        (&reply["error"], &reply["type"]),
        (&json!(true), &Value::Null),
        "{reply}"
    );
    assert!(
        reply["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("Invalid JSON"))
    );
    let reply = request(&mut socket, "deleteEverything", json!({})).await;
    let message = "Unknown request type: deleteEverything";
    assert_failure(&reply, json!("deleteEverything"), message);

    // Adding to a group that does not exist; to one the caller is not in (the document's
    // example); leaving a group one is not in.
    let reply = request(
        &mut socket,
        "addUserInGroup",
        json!({"groupId": 999_999, "userId": other.id}),
    )
    .await;
    assert_failure(&reply, json!("addUserInGroup"), "Group not found");
    let reply = request(&mut others, "newGroup", json!({"groupName": "theirs"})).await;
    let theirs = reply["params"]["groupId"].as_i64().expect("a group id");
    let reply = request(
        &mut socket,
        "addUserInGroup",
        json!({"groupId": theirs, "userId": owner.id}),
    )
    .await;
    assert_failure(
        &reply,
        json!("addUserInGroup"),
        "User is not a member of this group",
    );
    let reply = request(&mut socket, "leaveGroup", json!({"groupId": theirs})).await;
    assert_failure(
        &reply,
        json!("leaveGroup"),
        "User is not a member of this group",
    );
    let reply = request(
        &mut socket,
        "messageInGroup",
        json!({"groupId": theirs, "content": "x"}),
    )
    .await;
    assert_failure(
        &reply,
        json!("messageInGroup"),
        "User is not a member of this group",
    );
    let reply = request(
        &mut socket,
        "getlatestMessageGroup",
        json!({"groupId": 999_999}),
    )
    .await;
    assert_failure(&reply, json!("getlatestMessageGroup"), "Group not found");

    // Unknown users; params of the wrong shape; a message the service refuses.
    let reply = request(
        &mut others,
        "addUserInGroup",
        json!({"groupId": theirs, "userId": 999_999}),
    )
    .await;
    assert_failure(&reply, json!("addUserInGroup"), "User not found");
    let reply = request(
        &mut socket,
        "privateMessage",
        json!({"receiverId": 999_999, "content": "hi"}),
    )
    .await;
    assert_failure(&reply, json!("privateMessage"), "User not found");
    let reply = request(&mut socket, "newGroup", json!({"name": "no groupName"})).await;
    assert_eq!(
        (&reply["error"], &reply["type"]),
        (&json!(true), &json!("newGroup")),
        "{reply}"
    );
    assert!(
        reply["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("Invalid params"))
    );
    let reply = request(
        &mut socket,
        "privateMessage",
        json!({"receiverId": other.id, "content": ""}),
    )
    .await;
    assert_eq!(
        (&reply["error"], &reply["type"]),
        (&json!(true), &json!("privateMessage")),
        "{reply}"
    );
    let reply = request(
        &mut socket,
        "privateMessage",
        json!({"receiverId": owner.id, "content": "me"}),
    )
    .await;
    assert_eq!(reply["error"], true, "{reply}");

    // Ids given as strings are read; the socket stayed open through every error.
    let reply = request(
        &mut others,
        "messageInGroup",
        json!({"groupId": theirs.to_string(), "content": "as text"}),
    )
    .await;
    assert_reply(&reply, "messageInGroup");
    socket.expect_silence().await;
}

/// A private dialog is a conversation with a number too, but no group: every group request
/// naming it is refused, and nothing is posted into it.
async fn group_requests_refuse_a_private_dialog(backend: Backend) {
    let stack = spawn_stack(backend, 1).await;
    let api = Api::new(&stack, 0);
    let owner = api.account("Owner").await;
    let other = api.account("Other").await;
    let mut socket = api.socket(&owner.token).await;
    let mut others = api.socket(&other.token).await;
    let hi = json!({"receiverId": other.id, "content": "hi"});
    assert_reply(
        &request(&mut socket, "privateMessage", hi).await,
        "privateMessage",
    );
    assert_eq!(others.next().await["params"]["message"], "hi");
    // The dialog's number, as the native protocol lists the caller's conversations.
    let (status, conversations) = stack.get(0, "/groups", &owner.token).await;
    assert_eq!(status, 200, "{conversations}");
    let dialog = conversations[0]["number"]
        .as_i64()
        .expect("the dialog's number");
    assert_eq!(conversations.as_array().map(Vec::len), Some(1));

    for (kind, params) in [
        ("messageInGroup", json!({"groupId": dialog, "content": "x"})),
        (
            "addUserInGroup",
            json!({"groupId": dialog, "userId": other.id}),
        ),
        ("leaveGroup", json!({"groupId": dialog})),
        ("getlatestMessageGroup", json!({"groupId": dialog})),
    ] {
        let reply = request(&mut socket, kind, params).await;
        assert_failure(&reply, json!(kind), "Group not found");
    }
    others.expect_silence().await;
    let page = json!({"receiverId": other.id, "limit": 5, "page": 1});
    let reply = request(&mut socket, "getlatestMessageDialog", page).await;
    let messages = assert_reply(&reply, "getlatestMessageDialog");
    assert_eq!(messages.as_array().map(Vec::len), Some(1), "{messages}");
}
