//! The web-app document's notification and profile steps (2, 7, 8, 16, 17) on two replicas:
//! unread counts from the read watermarks, marking read as a receipt native clients see as
//! event 23, and profile changes announced to every online user as `user_update`.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{Backend, Socket, spawn_stack};
use crate::webapp_client::{Web, until};

backend_tests!(
    notifications_count_unread_and_marking_read_is_a_receipt,
    profile_changes_reach_every_online_user
);

async fn notifications_count_unread_and_marking_read_is_a_receipt(backend: Backend) {
    let stack = spawn_stack(backend, 2).await;
    let (here, there) = (Web::new(&stack, 0), Web::new(&stack, 1));
    let ann = here.user("Ann").await;
    let bob = there.user("Bob").await;
    let mut ann_socket = here.socket(&ann).await;
    let mut bob_socket = there.socket(&bob).await;
    // Cid speaks the native protocol on replica 1.
    let cid = stack.user(1, "cid").await;
    let mut native = Socket::connect(&cid.messaging_url).await;
    let credentials = json!({"username": "cid", "password": "0000"});
    let (_, login) = here
        .call(Method::POST, "/login", None, Some(credentials))
        .await;
    let cid_number = login["user_id"].as_i64().expect("Cid's id");

    // Ann opens a room with Cid; Cid answers twice natively.
    let frame = json!({"token": ann.token, "chat_type": "room", "other_user_id": cid_number, "message": "Hi Cid"});
    ann_socket.send(frame).await;
    let echo = until(&mut ann_socket, |f| f["type"] == "room_chat_message").await;
    let room = echo["chat_room_id"].as_i64().expect("the room");
    let direct = native.expect(20).await["body"]["group_id"]
        .as_str()
        .expect("the conversation")
        .to_owned();
    for text in ["one", "two"] {
        native
            .send(json!({"method": 40, "body": {"group_id": direct, "data": text}}))
            .await;
        native.expect(21).await;
    }
    // A group of Ann's that Bob enters and writes three messages to.
    let data = json!({"data": {"name": "Unread"}});
    let (_, group) = here
        .call(Method::POST, "/chat_groups", Some(&ann.token), Some(data))
        .await;
    let group = group["chat_group_id"].as_i64().expect("the group");
    let data = json!({"data": {"is_enter": true}});
    let (status, _) = there
        .call(
            Method::POST,
            &format!("/chat_groups/{group}"),
            Some(&bob.token),
            Some(data),
        )
        .await;
    assert_eq!(status, 200);
    for n in 0..3 {
        let frame = json!({"token": bob.token, "chat_type": "group", "chat_group_id": group, "message": format!("g{n}")});
        bob_socket.send(frame).await;
        until(&mut bob_socket, |f| f["type"] == "group_chat_message").await;
    }
    until(&mut ann_socket, |f| {
        f["type"] == "group_chat_message" && f["message"] == "g2"
    })
    .await;

    // 2. Ann's notifications.
    let (status, unread) = here.get("/notifications", &ann.token).await;
    assert_eq!(status, 200, "{unread}");
    assert_eq!(
        unread,
        json!({"chat_rooms": [{"chat_room_id": room, "unread": 2}],
               "chat_groups": [{"chat_group_id": group, "unread": 3}], "total": 5})
    );
    // Bob wrote everything in the group he reads: nothing unread.
    let (_, bobs) = there.get("/notifications", &bob.token).await;
    assert_eq!(bobs["total"], 0, "{bobs}");

    // 7–8. Ann reads the room: Cid sees the receipt as event 23; the room has nothing unread.
    let data = json!({"data": {"chat_room_id": room}});
    let (status, read) = here
        .call(Method::PUT, "/notifications", Some(&ann.token), Some(data))
        .await;
    assert_eq!((status, &read["success"]), (200, &json!(true)), "{read}");
    let receipt = native.expect(23).await;
    assert_eq!(receipt["body"]["group_id"], direct.as_str());
    let data = json!({"chat_group_id": group});
    let (status, _) = here
        .call(Method::PUT, "/notifications", Some(&ann.token), Some(data))
        .await;
    assert_eq!(status, 200);
    let (_, unread) = here.get("/notifications", &ann.token).await;
    assert_eq!(
        unread,
        json!({"chat_rooms": [], "chat_groups": [], "total": 0})
    );

    // Bad input changes nothing.
    for (data, expected) in [
        (json!({}), 400),
        (json!({"chat_room_id": "x"}), 400),
        (json!({"chat_room_id": 987_654}), 404),
        (json!({"chat_group_id": 987_654}), 404),
        (json!({"chat_room_id": room, "chat_group_id": group}), 400),
    ] {
        let (status, body) = there
            .call(
                Method::PUT,
                "/notifications",
                Some(&bob.token),
                Some(data.clone()),
            )
            .await;
        assert_eq!(status, expected, "{data}: {body}");
    }
    // Bob is not in Ann and Cid's room.
    let data = json!({"chat_room_id": room});
    let (status, _) = there
        .call(Method::PUT, "/notifications", Some(&bob.token), Some(data))
        .await;
    assert_eq!(status, 404);
    native.expect_silence().await;
}

async fn profile_changes_reach_every_online_user(backend: Backend) {
    let stack = spawn_stack(backend, 2).await;
    let (here, there) = (Web::new(&stack, 0), Web::new(&stack, 1));
    let ann = here.user("Ann").await;
    let bob = there.user("Bob").await;
    let mut ann_socket = here.socket(&ann).await;
    let mut bob_socket = there.socket(&bob).await;

    // 16. Ann's profile.
    let (status, profile) = here.get("/users/profile", &ann.token).await;
    assert_eq!(status, 200, "{profile}");
    assert_eq!(
        (
            &profile["id"],
            &profile["email"],
            &profile["first_name"],
            &profile["last_name"]
        ),
        (
            &json!(ann.id),
            &json!(ann.email),
            &json!("Ann"),
            &json!("Tester")
        )
    );

    // 17. Ann changes her first name and password: every online user is told.
    let data = json!({"data": {"first_name": "Anna", "password": "another secret"}});
    let (status, changed) = here
        .call(Method::PUT, "/users/profile", Some(&ann.token), Some(data))
        .await;
    assert_eq!(
        (status, &changed["first_name"]),
        (200, &json!("Anna")),
        "{changed}"
    );
    for socket in [&mut ann_socket, &mut bob_socket] {
        let update = until(socket, |f| f["type"] == "user_update").await;
        assert_eq!(
            update,
            json!({"type": "user_update", "user_id": ann.id, "first_name": "Anna", "last_name": "Tester"})
        );
    }
    here.login(&ann.email, "another secret").await;
    let old = json!({"email": ann.email, "password": "secret"});
    let (status, _) = here.call(Method::POST, "/login", None, Some(old)).await;
    assert_eq!(status, 401);
    let (_, users) = there.get("/users", &bob.token).await;
    let listed = users
        .as_array()
        .and_then(|all| all.iter().find(|u| u["id"] == ann.id))
        .expect("Ann");
    assert_eq!(listed["first_name"], "Anna");

    // Bad input changes nothing.
    for data in [
        json!({"first_name": 5}),
        json!({"password": ""}),
        json!({"last_name": "a\u{7}b"}),
    ] {
        let (status, body) = here
            .call(
                Method::PUT,
                "/users/profile",
                Some(&ann.token),
                Some(data.clone()),
            )
            .await;
        assert_eq!(
            (status, &body["error"]["code"]),
            (400, &json!("invalid_data")),
            "{data}: {body}"
        );
    }
    let (_, profile) = here.get("/users/profile", &ann.token).await;
    assert_eq!(
        (&profile["first_name"], &profile["last_name"]),
        (&json!("Anna"), &json!("Tester"))
    );
}
