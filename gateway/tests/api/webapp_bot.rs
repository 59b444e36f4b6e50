//! The web-app document's steps 4 and 5 on two replicas: every user's bot chat, answered by the
//! built-in bot from the real services (who is online, unread counts), read back with
//! `GET /http/chat_bot`; an external bot (the example under `gateway/examples/bot.rs`, served
//! as a real gRPC server) that answers some messages and leaves the rest to the built-in one;
//! a bot that is down or silent; bad input.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Backend, Socket, spawn_stack, spawn_stack_with};
use crate::webapp_client::{Web, WebUser, assert_time, until};

backend_tests!(
    the_built_in_bot_answers_from_the_services,
    bad_bot_messages_are_refused_and_store_nothing,
    an_external_bot_answers_and_leaves_the_rest_to_the_built_in_one,
    a_bot_that_is_down_or_silent_is_said_to_be_and_the_message_kept
);

/// Sends `message` to the bot; the answer frame's two messages (the user's, the bot's).
async fn ask(socket: &mut Socket, user: &WebUser, message: &str) -> (Value, Value) {
    socket
        .send(json!({"token": user.token, "chat_type": "bot", "message": message}))
        .await;
    let answer = until(socket, |f| f["type"] == "bot_chat_message").await;
    let messages = answer["messages"].as_array().expect("messages").clone();
    assert_eq!(messages.len(), 2, "{answer}");
    assert_eq!(messages[0]["is_user"], true, "{answer}");
    assert_eq!(messages[0]["message"], message, "{answer}");
    assert_eq!(messages[1]["is_user"], false, "{answer}");
    assert_time(&messages[0]["timestamp"]);
    assert_time(&messages[1]["timestamp"]);
    (messages[0].clone(), messages[1].clone())
}

fn text(message: &Value) -> &str {
    message["message"].as_str().expect("a message")
}

async fn history(web: &Web<'_>, user: &WebUser, data: Option<Value>) -> Vec<Value> {
    let (status, messages) = web
        .call(Method::GET, "/chat_bot", Some(&user.token), data)
        .await;
    assert_eq!(status, 200, "{messages}");
    messages.as_array().expect("an array").clone()
}

async fn the_built_in_bot_answers_from_the_services(backend: Backend) {
    let stack = spawn_stack(backend, 2).await;
    let (here, there) = (Web::new(&stack, 0), Web::new(&stack, 1));
    let ann = here.user("Ann").await;
    let bob = there.user("Bob").await;
    let mut ann_socket = here.socket(&ann).await;
    let mut ann_elsewhere = there.socket(&ann).await;
    let mut bob_socket = there.socket(&bob).await;

    // 4. Nothing yet.
    assert!(history(&here, &ann, None).await.is_empty());

    // 5. help: the list of what the bot can do.
    let (asked, answered) = ask(&mut ann_socket, &ann, "help").await;
    assert!(text(&answered).contains("online"), "{answered}");
    assert!(text(&answered).contains("unread"), "{answered}");
    // Ann's socket on the other replica sees both messages, from the log.
    let first = until(&mut ann_elsewhere, |f| f["type"] == "bot_chat_message").await;
    assert_eq!(first["messages"], json!([asked]), "{first}");
    let second = until(&mut ann_elsewhere, |f| f["type"] == "bot_chat_message").await;
    assert_eq!(second["messages"], json!([answered]), "{second}");

    // Who is online: Bob, from presence (and not Ann herself, nor the bot).
    let (_, answered) = ask(&mut ann_socket, &ann, "Who is online?").await;
    assert_eq!(
        text(&answered),
        "1 other user is online: Bob Tester.",
        "{answered}"
    );

    // Unread: none, then Bob's two messages in their room, from the read watermarks.
    let (_, answered) = ask(&mut ann_socket, &ann, "unread").await;
    assert_eq!(text(&answered), "You have no unread messages.");
    for message in ["Hi Ann", "Are you there?"] {
        let frame = json!({"token": bob.token, "chat_type": "room", "other_user_id": ann.id,
            "message": message});
        bob_socket.send(frame).await;
        until(&mut bob_socket, |f| f["type"] == "room_chat_message").await;
    }
    let room = until(&mut ann_socket, |f| {
        f["type"] == "room_chat_message" && f["message"] == "Are you there?"
    })
    .await["chat_room_id"]
        .clone();
    let (_, answered) = ask(&mut ann_socket, &ann, "How many unread messages do I have?").await;
    assert_eq!(
        text(&answered),
        format!("You have 2 unread messages: 2 from Bob Tester (room {room}).")
    );
    // Read, they are gone.
    let read = json!({"chat_room_id": room});
    let (status, _) = here
        .call(Method::PUT, "/notifications", Some(&ann.token), Some(read))
        .await;
    assert_eq!(status, 200);
    let (_, answered) = ask(&mut ann_socket, &ann, "unread").await;
    assert_eq!(text(&answered), "You have no unread messages.");
    let (_, answered) = ask(&mut ann_socket, &ann, "who am i").await;
    assert!(
        text(&answered).contains(&format!("Ann Tester (user id {})", ann.id)),
        "{answered}"
    );
    let (_, answered) = ask(&mut ann_socket, &ann, "qwerty").await;
    assert!(text(&answered).contains("help"), "{answered}");

    // The bot chat is kept, oldest first, on either replica; the bot's messages are not the
    // user's.
    let all = history(&there, &ann, None).await;
    assert_eq!(all.len(), 14, "{all:?}");
    assert_eq!(text(&all[0]), "help");
    assert_eq!(text(&all[12]), "qwerty");
    for (i, message) in all.iter().enumerate() {
        assert_eq!(message["is_user"], i % 2 == 0, "{message}");
        assert_time(&message["timestamp"]);
    }
    // Scrolling back from the newest: what came before it; since the first: what came after.
    let newest = all[13]["timestamp"].clone();
    let before = history(
        &here,
        &ann,
        Some(json!({"timestamp": newest, "before": true})),
    )
    .await;
    assert!(!before.is_empty() && before.len() < 14, "{before:?}");
    assert_eq!(before[..], all[..before.len()]);
    let oldest = all[0]["timestamp"].clone();
    let since = history(&here, &ann, Some(json!({"timestamp": oldest}))).await;
    assert!(!since.is_empty() && since.len() < 14, "{since:?}");
    assert_eq!(since[..], all[14 - since.len()..]);

    // Bob's bot chat is his own, and empty.
    assert!(history(&there, &bob, None).await.is_empty());
    // The bot is neither a user to chat with nor a room, and its messages are no unread ones.
    let (_, users) = here.get("/users", &ann.token).await;
    let users = users.as_array().expect("users").clone();
    assert_eq!(users.len(), 2, "{users:?}");
    let (_, rooms) = here.get("/chat_rooms", &ann.token).await;
    assert_eq!(rooms.as_array().map(Vec::len), Some(1), "{rooms}");
    let (_, unread) = here.get("/notifications", &ann.token).await;
    assert_eq!(unread["total"], 0, "{unread}");
    // Without a token: 401 in the dialect's shape.
    let (status, error) = here.call(Method::GET, "/chat_bot", None, None).await;
    assert_eq!(
        (status, &error["error"]["code"]),
        (401, &json!("unauthorized"))
    );
}

async fn bad_bot_messages_are_refused_and_store_nothing(backend: Backend) {
    let stack = spawn_stack(backend, 1).await;
    let web = Web::new(&stack, 0);
    let ann = web.user("Ann").await;
    let mut socket = web.socket(&ann).await;
    let long = "x".repeat(32 * 1024 + 1);
    for bad in [
        json!({"token": ann.token, "chat_type": "bot", "message": ""}),
        json!({"token": ann.token, "chat_type": "bot", "message": "   "}),
        json!({"token": ann.token, "chat_type": "bot", "message": 42}),
        json!({"token": ann.token, "chat_type": "bot"}),
        json!({"token": ann.token, "chat_type": "bot", "message": long}),
        json!({"token": ann.token, "chat_type": "robot", "message": "hi"}),
    ] {
        socket.send(bad.clone()).await;
        let error = until(&mut socket, |f| f["type"] == "error").await;
        assert_eq!(error["code"], "invalid_data", "{bad} -> {error}");
    }
    // Nothing was stored, and the socket still works.
    assert!(history(&web, &ann, None).await.is_empty());
    let (_, answered) = ask(&mut socket, &ann, "hello").await;
    assert_eq!(text(&answered), "Hello, Ann! Send help for what I can do.");
    // A bad window is the dialect's 400.
    let bad = json!({"timestamp": "yesterday"});
    let (status, error) = web
        .call(Method::GET, "/chat_bot", Some(&ann.token), Some(bad))
        .await;
    assert_eq!(
        (status, &error["error"]["code"]),
        (400, &json!("invalid_data"))
    );
    // The bot is not someone to open a room with.
    let (status, users) = web.get("/users", &ann.token).await;
    assert_eq!(status, 200);
    assert_eq!(users.as_array().map(Vec::len), Some(1), "{users}");
}

async fn an_external_bot_answers_and_leaves_the_rest_to_the_built_in_one(backend: Backend) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    let bot = tokio::spawn(crate::example_bot::serve(listener));
    let stack = spawn_stack_with(backend, 2, None, Some(&url)).await;
    let (here, there) = (Web::new(&stack, 0), Web::new(&stack, 1));
    let ann = here.user("Ann").await;
    let bob = there.user("Bob").await;
    let mut ann_socket = here.socket(&ann).await;
    let mut bob_socket = there.socket(&bob).await;

    // The external bot's own commands, through either replica's stream.
    let (_, answered) = ask(&mut ann_socket, &ann, "reverse stressed").await;
    assert_eq!(text(&answered), "desserts");
    let (_, answered) = ask(&mut bob_socket, &bob, "roll 1000").await;
    assert!(text(&answered).starts_with("🎲 "), "{answered}");
    // What it declines, the built-in bot answers.
    let (_, answered) = ask(&mut ann_socket, &ann, "help").await;
    assert!(text(&answered).contains("who is online"), "{answered}");
    // Many at once on one stream: each answer is its own.
    let mut sockets = Vec::new();
    for _ in 0..4 {
        sockets.push(here.socket(&ann).await);
    }
    for (i, socket) in sockets.iter_mut().enumerate() {
        let frame = json!({"token": ann.token, "chat_type": "bot",
            "message": format!("reverse abc{i}")});
        socket.send(frame).await;
    }
    for (i, socket) in sockets.iter_mut().enumerate() {
        let answer = until(socket, |f| {
            f["type"] == "bot_chat_message"
                && f["messages"].as_array().is_some_and(|m| m.len() == 2)
        })
        .await;
        assert_eq!(
            answer["messages"][1]["message"],
            format!("{i}cba"),
            "{answer}"
        );
    }
    let all = history(&there, &ann, None).await;
    assert_eq!(all.len(), 12, "{all:?}");
    assert_eq!(text(&all[1]), "desserts");
    bot.abort();
}

async fn a_bot_that_is_down_or_silent_is_said_to_be_and_the_message_kept(backend: Backend) {
    // Down: nothing listens at its address.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let down = format!("http://{}", closed.local_addr().expect("address"));
    drop(closed);
    let stack = spawn_stack_with(backend, 1, None, Some(&down)).await;
    let web = Web::new(&stack, 0);
    let ann = web.user("Ann").await;
    let mut socket = web.socket(&ann).await;
    let (_, answered) = ask(&mut socket, &ann, "reverse abc").await;
    assert!(text(&answered).contains("not available"), "{answered}");
    let all = history(&web, &ann, None).await;
    assert_eq!(all.len(), 2, "{all:?}");
    assert_eq!(text(&all[0]), "reverse abc");
    drop(stack);

    // Silent: a TCP port that accepts connections but never speaks: the answer still comes,
    // within the bot's timeout.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", silent.local_addr().expect("address"));
    let stack = spawn_stack_with(backend, 1, None, Some(&url)).await;
    let web = Web::new(&stack, 0);
    let ann = web.user("Ann").await;
    let mut socket = web.socket(&ann).await;
    let started = std::time::Instant::now();
    let (_, answered) = ask(&mut socket, &ann, "roll").await;
    assert!(text(&answered).contains("not available"), "{answered}");
    assert!(started.elapsed() < std::time::Duration::from_secs(9));
    assert_eq!(history(&web, &ann, None).await.len(), 2);
    drop(silent);
}
