//! The messenger document replayed over the WebSocket at `/`: every request type, its reply,
//! and the push the other side gets — two users on two replicas.

use serde_json::{Value, json};

use crate::helpers::{Backend, spawn_stack};
use crate::messenger_client::{Api, assert_failure, assert_reply, assert_time, request};

backend_tests!(the_documents_requests_answer_as_shown);

async fn the_documents_requests_answer_as_shown(backend: Backend) {
    let stack = spawn_stack(backend, 2).await;
    let (here, there) = (Api::new(&stack, 0), Api::new(&stack, 1));
    let patrick0 = here.account("Patrick0").await;
    let patrick1 = there.account("Patrick1").await;
    let mut zero = here.socket(&patrick0.token).await;
    let mut one = there.socket(&patrick1.token).await;

    // 8. Private message, and 9. what the recipient gets.
    let reply = request(
        &mut zero,
        "privateMessage",
        json!({"receiverId": patrick1.id, "content": "Hi"}),
    )
    .await;
    assert_eq!(assert_reply(&reply, "privateMessage"), Value::Null);
    let pushed = one.next().await;
    assert_eq!(pushed["type"], "privateMessage");
    assert_eq!(pushed["success"], true);
    assert_eq!(
        (
            &pushed["params"]["data"],
            &pushed["params"]["message"],
            &pushed["params"]["senderName"]
        ),
        (&Value::Null, &json!("Hi"), &json!("Patrick0")),
        "{pushed}"
    );
    assert_eq!(pushed["params"]["senderId"], patrick0.id);
    let reply = request(
        &mut one,
        "privateMessage",
        json!({"receiverId": patrick0.id, "content": "Message from 1"}),
    )
    .await;
    assert_reply(&reply, "privateMessage");
    let pushed = zero.next().await;
    assert_eq!(pushed["params"]["message"], "Message from 1");
    assert_eq!(pushed["params"]["senderName"], "Patrick1");

    // 3. Recent private messages, newest first, with the document's field names.
    let reply = request(
        &mut zero,
        "getlatestMessageDialog",
        json!({"receiverId": patrick1.id, "limit": 5, "page": 1}),
    )
    .await;
    let data = assert_reply(&reply, "getlatestMessageDialog");
    let messages = data.as_array().expect("an array");
    assert_eq!(messages.len(), 2, "{data}");
    let latest = &messages[0];
    assert_eq!(
        (
            &latest["sender_id"],
            &latest["receiver_id"],
            &latest["receverName"],
            &latest["content"]
        ),
        (
            &json!(patrick1.id),
            &json!(patrick0.id),
            &json!("Patrick0"),
            &json!("Message from 1")
        )
    );
    assert_time(&latest["created_at"]);
    assert_eq!(messages[1]["sender_id"], patrick0.id);
    assert_eq!(messages[1]["receverName"], "Patrick1");

    // 2. The latest chats: the dialog, with its last message.
    let reply = request(&mut zero, "listLastMessage", json!({"limit": 5, "page": 1})).await;
    let data = assert_reply(&reply, "listLastMessage");
    assert_eq!(data.as_array().map(Vec::len), Some(1), "{data}");
    let chat = &data[0];
    assert!(chat["id"].as_i64().is_some_and(|id| id > 0), "{chat}");
    assert_eq!(
        (
            &chat["senderId"],
            &chat["senderName"],
            &chat["receiverId"],
            &chat["receiverName"]
        ),
        (
            &json!(patrick1.id),
            &json!("Patrick1"),
            &json!(patrick0.id),
            &json!("Patrick0")
        )
    );
    assert_eq!(
        (&chat["groupId"], &chat["groupName"]),
        (&Value::Null, &Value::Null)
    );
    assert_eq!(
        (&chat["content"], &chat["deletedAt"]),
        (&json!("Message from 1"), &Value::Null)
    );
    assert_time(&chat["createdAt"]);
    assert_time(&chat["updatedAt"]);

    // 5. Creating a group; 6. adding a user to it.
    let reply = request(&mut zero, "newGroup", json!({"groupName": "new name"})).await;
    assert_eq!(assert_reply(&reply, "newGroup"), Value::Null);
    let group = reply["params"]["groupId"]
        .as_i64()
        .expect("the new group's id");
    let reply = request(
        &mut zero,
        "addUserInGroup",
        json!({"groupId": group, "userId": patrick1.id}),
    )
    .await;
    assert_eq!(assert_reply(&reply, "addUserInGroup"), Value::Null);

    // 8. A message in the group, and its push.
    let reply = request(
        &mut zero,
        "messageInGroup",
        json!({"groupId": group, "content": "lol"}),
    )
    .await;
    assert_eq!(assert_reply(&reply, "messageInGroup"), Value::Null);
    let pushed = one.next().await;
    assert_eq!(pushed["type"], "messageInGroup", "{pushed}");
    assert_eq!(
        (
            &pushed["params"]["data"],
            &pushed["params"]["message"],
            &pushed["params"]["senderName"]
        ),
        (&Value::Null, &json!("lol"), &json!("Patrick0"))
    );
    assert_eq!(pushed["params"]["groupId"], group);

    // 4. Recent messages in the group.
    let reply = request(
        &mut one,
        "getlatestMessageGroup",
        json!({"groupId": group, "limit": 5, "page": 1}),
    )
    .await;
    let data = assert_reply(&reply, "getlatestMessageGroup");
    assert_eq!(data.as_array().map(Vec::len), Some(1), "{data}");
    assert_eq!(
        (
            &data[0]["sender_id"],
            &data[0]["senderName"],
            &data[0]["group_id"],
            &data[0]["content"]
        ),
        (
            &json!(patrick0.id),
            &json!("Patrick0"),
            &json!(group),
            &json!("lol")
        )
    );
    assert_time(&data[0]["created_at"]);

    // The group is now the latest chat.
    let reply = request(&mut one, "listLastMessage", json!({"limit": 5, "page": 1})).await;
    let data = assert_reply(&reply, "listLastMessage");
    assert_eq!(
        (
            &data[0]["groupId"],
            &data[0]["groupName"],
            &data[0]["receiverId"]
        ),
        (&json!(group), &json!("new name"), &Value::Null),
        "{data}"
    );
    assert_eq!(data[1]["content"], "Message from 1");

    // 7. Leaving the group; 10. an error: leaving it again.
    let reply = request(&mut one, "leaveGroup", json!({"groupId": group})).await;
    assert_eq!(assert_reply(&reply, "leaveGroup"), Value::Null);
    let reply = request(&mut one, "leaveGroup", json!({"groupId": group})).await;
    assert_failure(
        &reply,
        json!("leaveGroup"),
        "User is not a member of this group",
    );
    // Nobody was pushed their own messages.
    zero.expect_silence().await;
    one.expect_silence().await;
}
