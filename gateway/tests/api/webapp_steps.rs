//! Issue 12's "done when": the web-app document's 17 steps replayed in order, over real
//! sockets on two gateway replicas, by three users who register by email through a real SMTP
//! server (`scripts/smtp-sink.sh`) and confirm with the link of the mail they received. Steps
//! 1–3 run for each user as they arrive (so the users already online see the newcomers);
//! rooms (6–9) are between two users, groups (10–15) among three; a step that needs something
//! a later step makes (a room's first message, a group) takes it from there, as a client would.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Backend, Socket, spawn_stack_mailing};
use crate::webapp_client::{Web, WebUser, activity, assert_time, until};
use crate::webapp_register::{path_of, start_smtp_sink};

backend_tests!(the_documents_seventeen_steps_in_order);

struct Person {
    user: WebUser,
    socket: Socket,
    replica: usize,
    first_name: &'static str,
    last_name: &'static str,
}

fn ids(list: &Value) -> Vec<i64> {
    let mut ids: Vec<i64> = list
        .as_array()
        .expect("an array")
        .iter()
        .filter_map(|item| item["id"].as_i64())
        .collect();
    ids.sort_unstable();
    ids
}

fn sorted(mut ids: Vec<i64>) -> Vec<i64> {
    ids.sort_unstable();
    ids
}

async fn the_documents_seventeen_steps_in_order(backend: Backend) {
    let Some(sink) = start_smtp_sink() else {
        return;
    };
    let stack = spawn_stack_mailing(backend, 2, Some(&sink.url)).await;
    let webs = [Web::new(&stack, 0), Web::new(&stack, 1)];
    let mut people: Vec<Person> = Vec::new();

    for (n, (first_name, last_name)) in [("Ann", "Archer"), ("Bob", "Baker"), ("Cid", "Cooper")]
        .into_iter()
        .enumerate()
    {
        let replica = n % 2;
        let (web, other) = (&webs[replica], &webs[1 - replica]);
        let email = format!("{}@steps.example", first_name.to_lowercase());
        let password = format!("{first_name} secret");

        // 1. Register: the link comes by mail; opening it (on the other replica) creates the
        // account, and every online user is told.
        let registration = json!({"email": email, "password": password,
            "first_name": first_name, "last_name": last_name});
        let (status, pending) = web
            .call(Method::POST, "/register", None, Some(registration))
            .await;
        assert_eq!(
            (status, &pending["success"]),
            (200, &json!(true)),
            "{pending}"
        );
        let link = sink.link(n + 1).await;
        let (status, confirmed) = other.call(Method::GET, &path_of(&link), None, None).await;
        assert_eq!(status, 200, "{confirmed}");
        let id = confirmed["user_id"].as_i64().expect("the new user's id");
        for person in &mut people {
            let update = until(&mut person.socket, |f| {
                f["type"] == "user_update" && f["user_id"] == id
            })
            .await;
            assert_eq!(
                update,
                json!({"type": "user_update", "user_id": id, "first_name": first_name,
                    "last_name": last_name})
            );
        }

        // 2. Login, the socket's init frame, notifications and users; every online user is
        // told the newcomer logged in.
        let token = web.login(&email, &password).await;
        let user = WebUser { id, token, email };
        let socket = web.socket(&user).await;
        for person in &mut people {
            activity(&mut person.socket, id, true).await;
        }
        let (status, unread) = web.get("/notifications", &user.token).await;
        assert_eq!(status, 200, "{unread}");
        assert_eq!(
            unread,
            json!({"chat_rooms": [], "chat_groups": [], "total": 0})
        );
        let (status, users) = web.get("/users", &user.token).await;
        assert_eq!(status, 200, "{users}");
        let mut expected: Vec<i64> = people.iter().map(|p| p.user.id).collect();
        expected.push(id);
        assert_eq!(ids(&users), sorted(expected), "{users}");
        assert!(
            users
                .as_array()
                .expect("users")
                .iter()
                .all(|u| u["status"] == "online"),
            "{users}"
        );
        people.push(Person {
            user,
            socket,
            replica,
            first_name,
            last_name,
        });
    }

    // 3. Cid logs out: his socket closes, the other two are told; he logs in again on the
    // other replica (2 again) and they are told that too.
    let web = &webs[people[2].replica];
    let (status, body) = web.get("/logout", &people[2].user.token).await;
    assert_eq!((status, &body["success"]), (200, &json!(true)), "{body}");
    assert_eq!(u16::from(people[2].socket.expect_close().await), 1008);
    let cid_id = people[2].user.id;
    for person in &mut people[..2] {
        activity(&mut person.socket, cid_id, false).await;
    }
    let web = &webs[1 - people[2].replica];
    let cid_email = people[2].user.email.clone();
    people[2].user.token = web.login(&cid_email, "Cid secret").await;
    people[2].replica = 1 - people[2].replica;
    people[2].socket = web.socket(&people[2].user).await;
    for person in &mut people[..2] {
        activity(&mut person.socket, cid_id, true).await;
    }

    let [ann, bob, cid] = &mut people[..] else {
        unreachable!("three people")
    };
    let (at_ann, at_bob, at_cid) = (&webs[ann.replica], &webs[bob.replica], &webs[cid.replica]);
    let ann_id = ann.user.id;

    // 4. Ann enters the bot chat: nothing fetched yet (no timestamp in her session storage).
    let (status, bot_chat) = at_ann
        .call(
            Method::GET,
            "/chat_bot",
            Some(&ann.user.token),
            Some(json!({"data": {"timestamp": null}})),
        )
        .await;
    assert_eq!((status, bot_chat), (200, json!([])));

    // 5. Ann asks the bot who is online: her message and its answer come back together.
    let frame = json!({"token": ann.user.token, "chat_type": "bot", "message": "who is online?"});
    ann.socket.send(frame).await;
    let answer = until(&mut ann.socket, |f| f["type"] == "bot_chat_message").await;
    let messages = answer["messages"].as_array().expect("messages");
    assert_eq!(messages.len(), 2, "{answer}");
    assert_eq!(
        (&messages[0]["is_user"], &messages[0]["message"]),
        (&json!(true), &json!("who is online?"))
    );
    assert_eq!(
        (&messages[1]["is_user"], &messages[1]["message"]),
        (
            &json!(false),
            &json!("2 other users are online: Bob Baker and Cid Cooper.")
        )
    );
    assert_time(&messages[1]["timestamp"]);
    // 4 again: scrolling back from the answer finds at most the question.
    let (status, older) = at_ann
        .call(
            Method::GET,
            "/chat_bot",
            Some(&ann.user.token),
            Some(json!({"data": {"timestamp": messages[1]["timestamp"], "before": true}})),
        )
        .await;
    assert_eq!(status, 200, "{older}");
    assert!(older.as_array().is_some_and(|o| o.len() <= 1), "{older}");

    // 6. Ann enters human chat: no rooms yet; everyone is listed.
    let (status, rooms) = at_ann.get("/chat_rooms", &ann.user.token).await;
    assert_eq!((status, rooms), (200, json!([])));
    let (_, users) = at_ann.get("/users", &ann.user.token).await;
    assert_eq!(
        ids(&users),
        sorted(vec![ann.user.id, bob.user.id, cid.user.id])
    );

    // 9. Ann writes to Bob (two users): the room is made by the first message.
    for message in ["Hi Bob", "How are you?"] {
        let frame = json!({"token": ann.user.token, "chat_type": "room",
            "other_user_id": bob.user.id, "message": message});
        ann.socket.send(frame).await;
        until(&mut ann.socket, |f| f["type"] == "room_chat_message").await;
    }
    let received = until(&mut bob.socket, |f| {
        f["type"] == "room_chat_message" && f["message"] == "How are you?"
    })
    .await;
    assert_eq!(received["user_id"], ann.user.id);
    assert_time(&received["timestamp"]);
    let room = received["chat_room_id"].as_i64().expect("the room's id");

    // 6. Bob's rooms: the one with Ann; 2: his notifications count her two messages.
    let (_, rooms) = at_bob.get("/chat_rooms", &bob.user.token).await;
    assert_eq!(ids(&rooms), [room], "{rooms}");
    assert_eq!(rooms[0]["other_user_id"], ann.user.id);
    let (_, unread) = at_bob.get("/notifications", &bob.user.token).await;
    assert_eq!(
        unread,
        json!({"chat_rooms": [{"chat_room_id": room, "unread": 2}], "chat_groups": [],
            "total": 2})
    );

    // 7. Bob enters the room: its messages (nothing fetched yet), read, scroll back.
    let (status, history) = at_bob
        .call(
            Method::GET,
            &format!("/chat_rooms/{room}"),
            Some(&bob.user.token),
            Some(json!({"data": {"timestamp": null}})),
        )
        .await;
    assert_eq!(status, 200, "{history}");
    let texts: Vec<&Value> = history
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| &m["message"])
        .collect();
    assert_eq!(texts, [&json!("Hi Bob"), &json!("How are you?")]);
    let read = json!({"data": {"chat_room_id": room}});
    let (status, _) = at_bob
        .call(
            Method::PUT,
            "/notifications",
            Some(&bob.user.token),
            Some(read.clone()),
        )
        .await;
    assert_eq!(status, 200);
    let (status, older) = at_bob
        .call(
            Method::GET,
            &format!("/chat_rooms/{room}"),
            Some(&bob.user.token),
            Some(json!({"data": {"timestamp": history[1]["timestamp"], "before": true}})),
        )
        .await;
    assert_eq!(status, 200, "{older}");
    assert!(older.as_array().is_some_and(|o| o.len() <= 1), "{older}");

    // 8. Bob leaves the room: read again; nothing unread.
    let (status, _) = at_bob
        .call(
            Method::PUT,
            "/notifications",
            Some(&bob.user.token),
            Some(read),
        )
        .await;
    assert_eq!(status, 200);
    let (_, unread) = at_bob.get("/notifications", &bob.user.token).await;
    assert_eq!(unread["total"], 0, "{unread}");

    // 9. Bob answers; Ann receives it.
    let frame = json!({"token": bob.user.token, "chat_type": "room",
        "other_user_id": ann.user.id, "message": "Fine, thanks"});
    bob.socket.send(frame).await;
    let received = until(&mut ann.socket, |f| {
        f["type"] == "room_chat_message" && f["message"] == "Fine, thanks"
    })
    .await;
    assert_eq!(
        (&received["user_id"], &received["chat_room_id"]),
        (&json!(bob.user.id), &json!(room))
    );

    // 10. Bob enters group chat: no groups yet.
    let (status, groups) = at_bob.get("/chat_groups", &bob.user.token).await;
    assert_eq!((status, groups), (200, json!([])));

    // 14. Ann creates a group (three users from here): every online user is told.
    let (status, created) = at_ann
        .call(
            Method::POST,
            "/chat_groups",
            Some(&ann.user.token),
            Some(json!({"data": {"name": "Hikers"}})),
        )
        .await;
    assert_eq!(status, 200, "{created}");
    let group = created["chat_group_id"].as_i64().expect("the group's id");
    for person in [&mut *ann, &mut *bob, &mut *cid] {
        let update = until(&mut person.socket, |f| {
            f["type"] == "group_chat_update" && f["chat_group_id"] == group
        })
        .await;
        assert_eq!(
            update,
            json!({"type": "group_chat_update", "chat_group_id": group, "name": "Hikers",
                "owner_id": ann_id})
        );
    }

    // 10. Now it is listed.
    let (_, groups) = at_bob.get("/chat_groups", &bob.user.token).await;
    assert_eq!(ids(&groups), [group], "{groups}");

    // 11. Bob, then Cid, enter the group: its messages (none yet), entering, the users in it
    // told, its members, scrolling back.
    for (person, web) in [(&mut *bob, at_bob), (&mut *cid, at_cid)] {
        let (status, history) = web
            .call(
                Method::GET,
                &format!("/chat_groups/{group}"),
                Some(&person.user.token),
                Some(json!({"data": {"timestamp": null}})),
            )
            .await;
        assert_eq!((status, history), (200, json!([])));
        let (status, entered) = web
            .call(
                Method::POST,
                &format!("/chat_groups/{group}"),
                Some(&person.user.token),
                Some(json!({"data": {"is_enter": true}})),
            )
            .await;
        assert_eq!(status, 200, "{entered}");
        assert_eq!(entered["is_member"], true, "{entered}");
    }
    // Ann is told of both, Bob of Cid.
    let entered = |f: &Value| {
        f["type"] == "group_chat_activitity"
            && f["is_enter"] == true
            && f["message"].as_str().is_some_and(|m| !m.is_empty())
    };
    until(&mut ann.socket, entered).await;
    until(&mut ann.socket, entered).await;
    until(&mut bob.socket, entered).await;
    let (status, members) = at_cid
        .get(&format!("/users/group/{group}"), &cid.user.token)
        .await;
    assert_eq!(status, 200, "{members}");
    assert_eq!(
        ids(&members),
        sorted(vec![ann.user.id, bob.user.id, cid.user.id])
    );

    // 13. Messages in the group reach everyone in it: Ann's, then Cid's (the sender's own
    // comes back as the reply).
    for (sender, text) in [(ann_id, "Welcome!"), (cid_id, "Hello hikers")] {
        let writer = if sender == ann_id {
            &mut *ann
        } else {
            &mut *cid
        };
        let frame = json!({"token": writer.user.token, "chat_type": "group",
            "chat_group_id": group, "message": text});
        writer.socket.send(frame).await;
        for person in [&mut *ann, &mut *bob, &mut *cid] {
            let message = until(&mut person.socket, |f| {
                f["type"] == "group_chat_message" && f["message"] == text
            })
            .await;
            assert_eq!(
                (&message["chat_group_id"], &message["user_id"]),
                (&json!(group), &json!(sender)),
                "{message}"
            );
            assert_time(&message["timestamp"]);
        }
    }
    // 11 again: since the last visit / scrolling back.
    let (status, history) = at_bob
        .call(
            Method::GET,
            &format!("/chat_groups/{group}"),
            Some(&bob.user.token),
            Some(json!({"data": {"timestamp": null}})),
        )
        .await;
    assert_eq!(status, 200, "{history}");
    assert_eq!(history.as_array().map(Vec::len), Some(2), "{history}");
    let (status, older) = at_bob
        .call(
            Method::GET,
            &format!("/chat_groups/{group}"),
            Some(&bob.user.token),
            Some(json!({"data": {"timestamp": history[1]["timestamp"], "before": true}})),
        )
        .await;
    assert_eq!(status, 200, "{older}");
    assert!(older.as_array().is_some_and(|o| o.len() <= 1), "{older}");

    // 12. Bob leaves: the two still in it are told.
    let (status, left) = at_bob
        .call(
            Method::POST,
            &format!("/chat_groups/{group}"),
            Some(&bob.user.token),
            Some(json!({"data": {"is_enter": false}})),
        )
        .await;
    assert_eq!((status, &left["is_member"]), (200, &json!(false)), "{left}");
    for person in [&mut *ann, &mut *cid] {
        until(&mut person.socket, |f| {
            f["type"] == "group_chat_activitity" && f["is_enter"] == false
        })
        .await;
    }

    // 15. Ann renames it (the group named by chat_group_id): every online user is told.
    let (status, renamed) = at_ann
        .call(
            Method::PUT,
            "/chat_groups",
            Some(&ann.user.token),
            Some(json!({"data": {"chat_group_id": group, "name": "Mountaineers"}})),
        )
        .await;
    assert_eq!(
        (status, &renamed["name"]),
        (200, &json!("Mountaineers")),
        "{renamed}"
    );
    for person in [&mut *ann, &mut *bob, &mut *cid] {
        until(&mut person.socket, |f| {
            f["type"] == "group_chat_update" && f["name"] == "Mountaineers"
        })
        .await;
    }

    // 16. Cid's profile.
    let (status, profile) = at_cid.get("/users/profile", &cid.user.token).await;
    assert_eq!(status, 200, "{profile}");
    assert_eq!(
        (
            &profile["id"],
            &profile["first_name"],
            &profile["last_name"]
        ),
        (
            &json!(cid_id),
            &json!(cid.first_name),
            &json!(cid.last_name)
        )
    );
    assert_eq!(profile["email"], cid.user.email);

    // 17. Cid changes his last name and password: every online user is told; the new
    // password logs in.
    let (status, changed) = at_cid
        .call(
            Method::PUT,
            "/users/profile",
            Some(&cid.user.token),
            Some(json!({"data": {"last_name": "Climber", "password": "a new secret"}})),
        )
        .await;
    assert_eq!(
        (status, &changed["last_name"]),
        (200, &json!("Climber")),
        "{changed}"
    );
    for person in [&mut *ann, &mut *bob, &mut *cid] {
        let update = until(&mut person.socket, |f| {
            f["type"] == "user_update" && f["user_id"] == cid_id
        })
        .await;
        assert_eq!(
            update,
            json!({"type": "user_update", "user_id": cid_id, "first_name": "Cid",
                "last_name": "Climber"})
        );
    }
    at_cid.login(&cid.user.email, "a new secret").await;

    // And the bot knows what Ann has not read: Bob's answer in their room, Cid's message in
    // the group (her own, before it, is read).
    let frame = json!({"token": ann.user.token, "chat_type": "bot", "message": "unread"});
    ann.socket.send(frame).await;
    let answer = until(&mut ann.socket, |f| f["type"] == "bot_chat_message").await;
    assert_eq!(
        answer["messages"][1]["message"],
        format!(
            "You have 2 unread messages: 1 from Bob Baker (room {room}) and 1 in \"Mountaineers\" (group {group})."
        ),
        "{answer}"
    );
    assert_eq!(sink.mails().len(), 3);
}
