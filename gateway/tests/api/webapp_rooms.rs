//! The web-app document's steps 6–9 replayed on two replicas: a room created by the first
//! `chat_type: "room"` frame, `room_chat_message` to the receiver, the rooms list, history
//! since a time and scrolling back 100 at a time; another user's room is not found.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{Backend, spawn_stack};
use crate::webapp_client::{Web, assert_time, until};

backend_tests!(room_messages_reach_the_receiver_and_the_history);

async fn room_messages_reach_the_receiver_and_the_history(backend: Backend) {
    let stack = spawn_stack(backend, 2).await;
    let (here, there) = (Web::new(&stack, 0), Web::new(&stack, 1));
    let ann = here.user("Ann").await;
    let bob = there.user("Bob").await;
    let cid = here.user("Cid").await;
    let mut ann_socket = here.socket(&ann).await;
    let mut bob_socket = there.socket(&bob).await;

    // 9. Ann writes to Bob: the room is created; Ann's socket gets her message back with the
    // room's id, Bob's gets it as the document shows.
    let frame = json!({"token": ann.token, "chat_type": "room", "other_user_id": bob.id,
        "message": "Hi Bob"});
    ann_socket.send(frame).await;
    let echo = until(&mut ann_socket, |f| f["type"] == "room_chat_message").await;
    let room = echo["chat_room_id"].as_i64().expect("the room's id");
    let received = until(&mut bob_socket, |f| f["type"] == "room_chat_message").await;
    assert_eq!(
        (
            &received["user_id"],
            &received["chat_room_id"],
            &received["message"]
        ),
        (&json!(ann.id), &json!(room), &json!("Hi Bob")),
        "{received}"
    );
    assert_time(&received["timestamp"]);
    // Bob answers in the same room.
    let frame = json!({"token": bob.token, "chat_type": "room", "other_user_id": ann.id,
        "message": "Hi Ann"});
    bob_socket.send(frame).await;
    let echo = until(&mut bob_socket, |f| f["type"] == "room_chat_message").await;
    assert_eq!(echo["chat_room_id"], room);
    let received = until(&mut ann_socket, |f| f["type"] == "room_chat_message").await;
    assert_eq!(
        (&received["user_id"], &received["message"]),
        (&json!(bob.id), &json!("Hi Ann"))
    );
    let after_both = received["timestamp"].as_str().expect("a time").to_owned();

    // 6. Bob's rooms: one, with Ann.
    let (status, rooms) = there.get("/chat_rooms", &bob.token).await;
    assert_eq!(status, 200, "{rooms}");
    let rooms = rooms.as_array().expect("an array").clone();
    assert_eq!(rooms.len(), 1, "{rooms:?}");
    assert_eq!(
        (
            &rooms[0]["chat_room_id"],
            &rooms[0]["other_user_id"],
            &rooms[0]["first_name"]
        ),
        (&json!(room), &json!(ann.id), &json!("Ann"))
    );

    // 7. The room's messages: all of them with no timestamp, oldest first.
    let (status, all) = there.get(&format!("/chat_rooms/{room}"), &bob.token).await;
    assert_eq!(status, 200, "{all}");
    let texts: Vec<_> = all
        .as_array()
        .expect("an array")
        .iter()
        .map(|m| m["message"].clone())
        .collect();
    assert_eq!(texts, [json!("Hi Bob"), json!("Hi Ann")]);
    assert_eq!(all[0]["user_id"], ann.id);
    assert_time(&all[0]["timestamp"]);

    // 150 more, so that scrolling back pages by 100.
    for n in 0..150 {
        let frame = json!({"token": ann.token, "chat_type": "room", "other_user_id": bob.id,
            "message": format!("m{n}")});
        ann_socket.send(frame).await;
        until(&mut ann_socket, |f| f["type"] == "room_chat_message").await;
    }
    let (_, newest) = there.get(&format!("/chat_rooms/{room}"), &bob.token).await;
    let newest = newest.as_array().expect("an array").clone();
    assert_eq!(newest.len(), 100);
    assert_eq!(
        (&newest[0]["message"], &newest[99]["message"]),
        (&json!("m50"), &json!("m149"))
    );
    // Everything since the epoch (Unix ms), to say what the windows below should hold.
    let (_, full) = there
        .get(&format!("/chat_rooms/{room}?timestamp=1"), &bob.token)
        .await;
    let full = full.as_array().expect("an array").clone();
    assert_eq!(full.len(), 152);
    let stamp = |m: &serde_json::Value| m["timestamp"].as_str().unwrap_or_default().to_owned();
    // Scrolling back from the oldest shown, as query parameters: the 100 before its time.
    let oldest = stamp(&newest[0]);
    let scroll = format!("/chat_rooms/{room}?timestamp={oldest}&before=True");
    let (status, older) = there.get(&scroll, &bob.token).await;
    assert_eq!(status, 200, "{older}");
    let earlier: Vec<_> = full.iter().filter(|m| stamp(m) < oldest).cloned().collect();
    let expected = &earlier[earlier.len().saturating_sub(100)..];
    assert_eq!(older.as_array().map(Vec::as_slice), Some(expected));
    assert!(!expected.is_empty());
    // Since Bob's answer, as the document's wrapped body with Unix milliseconds.
    let ms = chrono::DateTime::parse_from_rfc3339(&after_both)
        .expect("time")
        .timestamp_millis();
    let data = json!({"data": {"timestamp": ms}});
    let (status, since) = there
        .call(
            Method::GET,
            &format!("/chat_rooms/{room}"),
            Some(&bob.token),
            Some(data),
        )
        .await;
    assert_eq!(status, 200, "{since}");
    let later: Vec<_> = full
        .iter()
        .filter(|m| stamp(m) > after_both)
        .cloned()
        .collect();
    assert_eq!(since.as_array().map(Vec::as_slice), Some(later.as_slice()));
    assert!(later.len() > 100, "{} since Bob's answer", later.len());

    // 7–8. Another user's room is not found; nor is a room that does not exist.
    let (status, body) = here.get(&format!("/chat_rooms/{room}"), &cid.token).await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (404, &json!("room_not_found")),
        "{body}"
    );
    let (status, _) = here.get("/chat_rooms/987654", &ann.token).await;
    assert_eq!(status, 404);
    let (status, body) = here
        .get(&format!("/chat_rooms/{room}?timestamp=soon"), &ann.token)
        .await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (400, &json!("invalid_data")),
        "{body}"
    );
}
