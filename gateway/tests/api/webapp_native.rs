//! One model, three dialects: a `/http` room is the direct conversation seed 004's private
//! messages and the native protocol see, both ways; a group created under `/http` is entered
//! by a native user, whose messages reach the web app's sockets.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{Backend, Socket, spawn_stack};
use crate::messenger_client::{Api, assert_reply, request};
use crate::webapp_client::{Web, until};

backend_tests!(rooms_and_groups_cross_between_the_web_app_and_the_other_dialects);

async fn rooms_and_groups_cross_between_the_web_app_and_the_other_dialects(backend: Backend) {
    let stack = spawn_stack(backend, 2).await;
    let web = Web::new(&stack, 0);
    let api = Api::new(&stack, 1);
    let ann = web.user("Ann").await;
    let mut ann_socket = web.socket(&ann).await;

    // Bob speaks the messenger's dialect on replica 1.
    let bob = api.account("Bob").await;
    let mut messenger = api.socket(&bob.token).await;
    let frame = json!({"token": ann.token, "chat_type": "room", "other_user_id": bob.id, "message": "Hi Bob"});
    ann_socket.send(frame).await;
    let echo = until(&mut ann_socket, |f| f["type"] == "room_chat_message").await;
    let room = echo["chat_room_id"].clone();
    let pushed = messenger.next().await;
    assert_eq!(pushed["type"], "privateMessage", "{pushed}");
    assert_eq!(
        (&pushed["params"]["message"], &pushed["params"]["senderId"]),
        (&json!("Hi Bob"), &json!(ann.id))
    );
    let reply = request(
        &mut messenger,
        "privateMessage",
        json!({"receiverId": ann.id, "content": "Hi Ann"}),
    )
    .await;
    assert_reply(&reply, "privateMessage");
    let received = until(&mut ann_socket, |f| f["type"] == "room_chat_message").await;
    assert_eq!(
        (
            &received["chat_room_id"],
            &received["user_id"],
            &received["message"]
        ),
        (&room, &json!(bob.id), &json!("Hi Ann"))
    );

    // Cid is a native user (POST /users, a session socket); he logs in under /http too.
    let cid = stack.user(1, "cid").await;
    let mut native = Socket::connect(&cid.messaging_url).await;
    let credentials = json!({"username": "cid", "password": "0000"});
    let (status, login) = web
        .call(Method::POST, "/login", None, Some(credentials))
        .await;
    assert_eq!(status, 200, "{login}");
    let cid_number = login["user_id"].as_i64().expect("Cid's id");
    let (_, users) = web
        .get("/users", login["token"].as_str().expect("a token"))
        .await;
    let listed = users
        .as_array()
        .and_then(|all| all.iter().find(|u| u["id"] == cid_number));
    assert_eq!(
        listed.map(|u| &u["status"]),
        Some(&json!("online")),
        "{users}"
    );
    let frame = json!({"token": ann.token, "chat_type": "room", "other_user_id": cid_number, "message": "Hi Cid"});
    ann_socket.send(frame).await;
    until(&mut ann_socket, |f| f["type"] == "room_chat_message").await;
    let event = native.expect(20).await;
    assert_eq!(event["body"]["data"], "Hi Cid");
    let direct = event["body"]["group_id"]
        .as_str()
        .expect("the conversation")
        .to_owned();
    native
        .send(json!({"method": 40, "body": {"group_id": direct, "data": "Hi Ann"}}))
        .await;
    native.expect(21).await;
    let received = until(&mut ann_socket, |f| f["type"] == "room_chat_message").await;
    assert_eq!(
        (&received["user_id"], &received["message"]),
        (&json!(cid_number), &json!("Hi Ann"))
    );

    // A group created under /http, entered by Cid natively: his message reaches Ann's socket.
    let data = json!({"data": {"name": "Mixed"}});
    let (status, created) = web
        .call(Method::POST, "/chat_groups", Some(&ann.token), Some(data))
        .await;
    assert_eq!(status, 200, "{created}");
    let number = created["chat_group_id"].clone();
    // Ann's groups natively (users of every dialect log in everywhere) name its UUID.
    let (_, login) = stack
        .post(
            0,
            "/login",
            None,
            json!({"email": ann.email, "password": "secret"}),
        )
        .await;
    let ann_native = login["token"].as_str().expect("a native token").to_owned();
    let (_, groups) = stack.get(0, "/groups", &ann_native).await;
    let group = groups
        .as_array()
        .and_then(|all| all.iter().find(|g| g["number"] == number))
        .and_then(|g| g["id"].as_str())
        .expect("the group natively")
        .to_owned();
    let (status, joined) = stack
        .put(1, &format!("/groups/{group}/join"), &cid.token, json!({}))
        .await;
    assert_eq!(status, 200, "{joined}");
    until(&mut ann_socket, |f| f["type"] == "group_chat_activitity").await;
    native.expect(72).await;
    native
        .send(json!({"method": 40, "body": {"group_id": group, "data": "hello from native"}}))
        .await;
    native.expect(21).await;
    let received = until(&mut ann_socket, |f| f["type"] == "group_chat_message").await;
    assert_eq!(
        (
            &received["chat_group_id"],
            &received["user_id"],
            &received["message"]
        ),
        (&number, &json!(cid_number), &json!("hello from native"))
    );
    let frame = json!({"token": ann.token, "chat_type": "group", "chat_group_id": number, "message": "welcome"});
    ann_socket.send(frame).await;
    let event = native.expect(20).await;
    assert_eq!(
        (event["body"]["group_id"].as_str(), &event["body"]["data"]),
        (Some(group.as_str()), &json!("welcome"))
    );
}
