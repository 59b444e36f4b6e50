//! Paging on the messenger socket: `limit` and `page` go back from the newest, in dialogs and in
//! the list of latest chats.

use serde_json::{Value, json};

use crate::helpers::{Backend, spawn_stack};
use crate::messenger_client::{Api, assert_failure, assert_reply, request};

backend_tests!(pages_go_back_from_the_newest);

async fn pages_go_back_from_the_newest(backend: Backend) {
    let stack = spawn_stack(backend, 1).await;
    let api = Api::new(&stack, 0);
    let (alice, bob, carol) = (
        api.account("Alice").await,
        api.account("Bob").await,
        api.account("Carol").await,
    );
    let mut socket = api.socket(&alice.token).await;
    for n in 1..=7 {
        let reply = request(
            &mut socket,
            "privateMessage",
            json!({"receiverId": bob.id, "content": format!("m{n}")}),
        )
        .await;
        assert_reply(&reply, "privateMessage");
    }
    let contents = |data: &Value| -> Vec<String> {
        let items = data.as_array().expect("an array");
        items
            .iter()
            .map(|m| m["content"].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    let mut bobs = api.socket(&bob.token).await;
    for (page, expected) in [
        (1, vec!["m7", "m6", "m5"]),
        (2, vec!["m4", "m3", "m2"]),
        (3, vec!["m1"]),
        (4, vec![]),
    ] {
        let params = json!({"receiverId": alice.id, "limit": 3, "page": page});
        let reply = request(&mut bobs, "getlatestMessageDialog", params).await;
        assert_eq!(
            contents(&assert_reply(&reply, "getlatestMessageDialog")),
            expected,
            "page {page}"
        );
    }
    let reply = request(
        &mut bobs,
        "getlatestMessageDialog",
        json!({"receiverId": alice.id}),
    )
    .await;
    assert_eq!(
        contents(&assert_reply(&reply, "getlatestMessageDialog")).len(),
        7
    );
    let reply = request(
        &mut bobs,
        "getlatestMessageDialog",
        json!({"receiverId": carol.id}),
    )
    .await;
    assert_eq!(
        assert_reply(&reply, "getlatestMessageDialog"),
        json!([]),
        "never written to"
    );
    let reply = request(&mut bobs, "listLastMessage", json!({"limit": 5, "page": 0})).await;
    let message = "Invalid params: limit and page must be positive integers";
    assert_failure(&reply, json!("listLastMessage"), message);

    // Three groups with a message each, after the dialog: two chats a page.
    for name in ["g1", "g2", "g3"] {
        let reply = request(&mut socket, "newGroup", json!({"groupName": name})).await;
        let group = reply["params"]["groupId"].clone();
        request(
            &mut socket,
            "messageInGroup",
            json!({"groupId": group, "content": name}),
        )
        .await;
    }
    let mut pages = Vec::new();
    for page in 1..=3 {
        let reply = request(
            &mut socket,
            "listLastMessage",
            json!({"limit": 2, "page": page}),
        )
        .await;
        pages.push(contents(&assert_reply(&reply, "listLastMessage")));
    }
    assert_eq!(pages, [vec!["g3", "g2"], vec!["g1", "m7"], vec![]]);
}
