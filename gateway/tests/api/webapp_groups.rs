//! The web-app document's steps 10–15 replayed with three users on two replicas: creating a
//! public group (`group_chat_update` to every online user), listing, entering and leaving
//! (`group_chat_activitity` to the users in it), its users, `group_chat_message`, history,
//! and renaming by the owner only.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Backend, spawn_stack};
use crate::webapp_client::{Web, until};

backend_tests!(public_groups_are_created_entered_and_renamed_as_shown);

fn update_of(group: i64) -> impl Fn(&Value) -> bool {
    move |f| f["type"] == "group_chat_update" && f["chat_group_id"] == group
}

async fn public_groups_are_created_entered_and_renamed_as_shown(backend: Backend) {
    let stack = spawn_stack(backend, 2).await;
    let (here, there) = (Web::new(&stack, 0), Web::new(&stack, 1));
    let ann = here.user("Ann").await;
    let bob = there.user("Bob").await;
    let cid = here.user("Cid").await;
    let mut ann_socket = here.socket(&ann).await;
    let mut bob_socket = there.socket(&bob).await;
    let mut cid_socket = here.socket(&cid).await;

    // 14. Ann creates a group: every online user is told.
    let data = json!({"data": {"name": "Climbers"}});
    let (status, created) = here
        .call(Method::POST, "/chat_groups", Some(&ann.token), Some(data))
        .await;
    assert_eq!(status, 200, "{created}");
    let group = created["chat_group_id"].as_i64().expect("the group's id");
    assert_eq!(
        (&created["name"], &created["owner_id"]),
        (&json!("Climbers"), &json!(ann.id))
    );
    for socket in [&mut ann_socket, &mut bob_socket, &mut cid_socket] {
        let update = until(socket, update_of(group)).await;
        assert_eq!(
            (&update["name"], &update["owner_id"]),
            (&json!("Climbers"), &json!(ann.id))
        );
    }

    // 10. Bob lists the groups: Ann's, which he is not in.
    let (status, groups) = there.get("/chat_groups", &bob.token).await;
    assert_eq!(status, 200, "{groups}");
    let listed = groups
        .as_array()
        .and_then(|g| g.iter().find(|g| g["id"] == group))
        .expect("listed");
    assert_eq!(
        (&listed["is_member"], &listed["members"]),
        (&json!(false), &json!(1))
    );

    // 11. Bob enters: Ann (in the group) is told; then the group's users are both.
    let data = json!({"data": {"is_enter": true}});
    let (status, entered) = there
        .call(
            Method::POST,
            &format!("/chat_groups/{group}"),
            Some(&bob.token),
            Some(data),
        )
        .await;
    assert_eq!(status, 200, "{entered}");
    assert_eq!(
        (&entered["is_member"], &entered["members"]),
        (&json!(true), &json!(2))
    );
    let activity = until(&mut ann_socket, |f| f["type"] == "group_chat_activitity").await;
    assert!(
        activity["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{activity}"
    );
    let (status, users) = here.get(&format!("/users/group/{group}"), &cid.token).await;
    assert_eq!(status, 200, "{users}");
    let mut ids: Vec<i64> = users
        .as_array()
        .expect("users")
        .iter()
        .filter_map(|u| u["id"].as_i64())
        .collect();
    ids.sort_unstable();
    assert_eq!(ids, {
        let mut both = vec![ann.id, bob.id];
        both.sort_unstable();
        both
    });
    assert!(
        users
            .as_array()
            .expect("users")
            .iter()
            .all(|u| u["status"] == "online")
    );

    // 13. Bob writes to the group: Ann gets group_chat_message, Bob his message back.
    let frame = json!({"token": bob.token, "chat_type": "group", "chat_group_id": group, "message": "hello climbers"});
    bob_socket.send(frame).await;
    let echo = until(&mut bob_socket, |f| f["type"] == "group_chat_message").await;
    assert_eq!(echo["chat_group_id"], group);
    let received = until(&mut ann_socket, |f| f["type"] == "group_chat_message").await;
    assert_eq!(
        (
            &received["user_id"],
            &received["chat_group_id"],
            &received["message"]
        ),
        (&json!(bob.id), &json!(group), &json!("hello climbers")),
        "{received}"
    );
    crate::webapp_client::assert_time(&received["timestamp"]);
    // Cid, not in it, may read it (it is public) but not write to it.
    let (status, history) = here.get(&format!("/chat_groups/{group}"), &cid.token).await;
    assert_eq!(status, 200, "{history}");
    assert_eq!(history[0]["message"], "hello climbers");
    let frame = json!({"token": cid.token, "chat_type": "group", "chat_group_id": group, "message": "me too"});
    cid_socket.send(frame).await;
    let refused = until(&mut cid_socket, |f| f["type"] == "error").await;
    assert_eq!(refused["code"], "not_a_member", "{refused}");
    let scroll = format!(
        "/chat_groups/{group}?timestamp={}&before=true",
        received["timestamp"].as_str().unwrap_or_default()
    );
    let (status, older) = here.get(&scroll, &ann.token).await;
    assert_eq!((status, older), (200, json!([])));

    // 15. Only the owner renames; every online user is told.
    let data = json!({"data": {"chat_group_id": group, "name": "Mine"}});
    let (status, body) = there
        .call(Method::PUT, "/chat_groups", Some(&bob.token), Some(data))
        .await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (403, &json!("forbidden")),
        "{body}"
    );
    let data = json!({"data": {"chat_group_id": group, "name": "Rock"}});
    let (status, renamed) = here
        .call(Method::PUT, "/chat_groups", Some(&ann.token), Some(data))
        .await;
    assert_eq!(
        (status, &renamed["name"]),
        (200, &json!("Rock")),
        "{renamed}"
    );
    for socket in [&mut ann_socket, &mut bob_socket, &mut cid_socket] {
        let update = until(socket, update_of(group)).await;
        assert_eq!(
            (&update["name"], &update["owner_id"]),
            (&json!("Rock"), &json!(ann.id))
        );
    }
    let data = json!({"name": "Boulder"});
    let (status, renamed) = here
        .call(
            Method::PUT,
            &format!("/chat_groups/{group}"),
            Some(&ann.token),
            Some(data),
        )
        .await;
    assert_eq!(
        (status, &renamed["name"]),
        (200, &json!("Boulder")),
        "{renamed}"
    );

    // 12. Bob leaves: Ann is told, and Bob can no longer write to it.
    let data = json!({"data": {"is_enter": false}});
    let (status, left) = there
        .call(
            Method::POST,
            &format!("/chat_groups/{group}"),
            Some(&bob.token),
            Some(data),
        )
        .await;
    assert_eq!((status, &left["members"]), (200, &json!(1)), "{left}");
    until(&mut ann_socket, |f| f["type"] == "group_chat_activitity").await;
    let frame =
        json!({"token": bob.token, "chat_type": "group", "chat_group_id": group, "message": "bye"});
    bob_socket.send(frame).await;
    let refused = until(&mut bob_socket, |f| f["type"] == "error").await;
    assert_eq!(refused["code"], "not_a_member", "{refused}");

    // Bad input changes nothing.
    let cases = [
        (
            Method::POST,
            "/chat_groups".to_owned(),
            json!({"data": {"name": ""}}),
            400,
        ),
        (
            Method::POST,
            "/chat_groups".to_owned(),
            json!({"data": {"title": "x"}}),
            400,
        ),
        (
            Method::POST,
            format!("/chat_groups/{group}"),
            json!({"data": {"is_enter": "maybe"}}),
            400,
        ),
        (
            Method::POST,
            "/chat_groups/987654".to_owned(),
            json!({"is_enter": true}),
            404,
        ),
        (
            Method::PUT,
            "/chat_groups".to_owned(),
            json!({"data": {"name": "x"}}),
            400,
        ),
        (
            Method::PUT,
            "/chat_groups".to_owned(),
            json!({"data": {"chat_group_id": 987654, "name": "x"}}),
            404,
        ),
        (
            Method::GET,
            "/users/group/987654".to_owned(),
            Value::Null,
            404,
        ),
        (Method::GET, "/chat_groups/abc".to_owned(), Value::Null, 404),
    ];
    for (method, path, data, expected) in cases {
        let data = (!data.is_null()).then_some(data);
        let (status, body) = here
            .call(method.clone(), &path, Some(&ann.token), data)
            .await;
        assert_eq!(status, expected, "{method} {path}: {body}");
        assert!(body["error"]["code"].is_string(), "{body}");
    }
    let (_, groups) = here.get("/chat_groups", &ann.token).await;
    assert_eq!(groups.as_array().map(Vec::len), Some(1), "{groups}");
    assert_eq!(groups[0]["name"], "Boulder");
}
