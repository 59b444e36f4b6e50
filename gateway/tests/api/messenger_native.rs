//! One model, two dialects: a messenger `privateMessage` reaches the recipient's native socket
//! as event 20 (and a native reply comes back as a push), and a native group message reaches a
//! `/` socket as a `messageInGroup` push.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{Backend, Socket, spawn_stack};
use crate::messenger_client::{Api, assert_reply, request};

backend_tests!(messages_cross_between_the_messenger_and_the_native_protocol);

async fn messages_cross_between_the_messenger_and_the_native_protocol(backend: Backend) {
    let stack = spawn_stack(backend, 2).await;
    let api = Api::new(&stack, 1);
    // Alice speaks the native protocol on replica 0; Bob the messenger's on replica 1.
    let alice = stack.user(0, "alice").await;
    let mut native = Socket::connect(&alice.messaging_url).await;
    let (_, alice_there) = api
        .call(Method::GET, "/api/users/me", Some(&alice.token), None)
        .await;
    let alice_number = alice_there["id"].as_i64().expect("Alice's number");
    let bob = api.account("Bob").await;
    let mut messenger = api.socket(&bob.token).await;

    // privateMessage → event 20 on the native socket, in their direct conversation.
    let params = json!({"receiverId": alice_number, "content": "Hi"});
    assert_reply(
        &request(&mut messenger, "privateMessage", params).await,
        "privateMessage",
    );
    let received = native.expect(20).await;
    assert_eq!(received["body"]["data"], "Hi");
    assert_eq!(received["body"]["seq"], 1);
    let bob_uuid = received["body"]["user_id"]
        .as_str()
        .expect("sender")
        .to_owned();
    let direct = received["body"]["group_id"]
        .as_str()
        .expect("conversation")
        .to_owned();
    let (status, conversation) = stack
        .get(0, &format!("/groups/{direct}"), &alice.token)
        .await;
    assert_eq!(status, 200, "{conversation}");
    assert_eq!(conversation["user_ids"].as_array().map(Vec::len), Some(2));

    // A native reply in that conversation is a privateMessage push, named by username.
    native
        .send(json!({"method": 40, "body": {"group_id": direct, "data": "Hello Bob"}}))
        .await;
    native.expect(21).await;
    let pushed = messenger.next().await;
    assert_eq!(pushed["type"], "privateMessage", "{pushed}");
    assert_eq!(
        (
            &pushed["params"]["message"],
            &pushed["params"]["senderName"]
        ),
        (&json!("Hello Bob"), &json!("alice"))
    );
    assert_eq!(pushed["params"]["senderId"], alice_number);

    // A native group with Bob: its messages are messageInGroup pushes with the group's number.
    let group = stack
        .post(
            0,
            "/groups",
            Some(&alice.token),
            json!({"name": "team", "user_ids": [bob_uuid]}),
        )
        .await;
    assert_eq!(group.0, 200, "{}", group.1);
    native.expect(70).await;
    let group_id = group.1["id"].as_str().expect("group id").to_owned();
    native
        .send(json!({"method": 40, "body": {"group_id": group_id, "data": "to the team"}}))
        .await;
    native.expect(21).await;
    let pushed = messenger.next().await;
    assert_eq!(pushed["type"], "messageInGroup", "{pushed}");
    assert_eq!(
        (
            &pushed["params"]["data"],
            &pushed["params"]["message"],
            &pushed["params"]["senderName"]
        ),
        (
            &serde_json::Value::Null,
            &json!("to the team"),
            &json!("alice")
        )
    );
    assert_eq!(pushed["params"]["groupId"], group.1["number"]);

    // And back: Bob's messageInGroup is event 20 for Alice.
    let params = json!({"groupId": group.1["number"], "content": "got it"});
    assert_reply(
        &request(&mut messenger, "messageInGroup", params).await,
        "messageInGroup",
    );
    let received = native.expect(20).await;
    assert_eq!(
        (
            received["body"]["group_id"].as_str(),
            &received["body"]["data"]
        ),
        (Some(group_id.as_str()), &json!("got it"))
    );
    messenger.expect_silence().await;
}
