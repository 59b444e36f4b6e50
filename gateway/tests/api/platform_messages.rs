//! The platform dialect's signed messages (seed 002), end to end on two gateways and both
//! backends: keys generated here, registered as PEM and as JWK, messages signed and verified,
//! a tampered or missing signature refused with nothing stored, a batch checked whole, key
//! rotation, idempotent retries, receipts, and tenancy on every user route.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use reqwest::Method;
use rsa::pkcs1v15::{Signature, SigningKey, VerifyingKey};
use rsa::pkcs8::{DecodePublicKey, EncodePublicKey, LineEnding};
use rsa::sha2::Sha256;
use rsa::signature::{SignatureEncoding, Signer, Verifier};
use rsa::traits::PublicKeyParts;
use rsa::{RsaPrivateKey, RsaPublicKey};
use serde_json::{Value, json};

use crate::helpers::{Backend, Stack, spawn_stack};

backend_tests!(
    signed_messages_are_verified_and_refused_when_tampered,
    polls_return_each_message_once_with_receipts_and_long_polls_wake_at_once,
);

pub fn new_key(bits: usize) -> RsaPrivateKey {
    RsaPrivateKey::new(&mut rsa::rand_core::OsRng, bits).expect("generate an RSA key")
}

pub fn pem(key: &RsaPrivateKey) -> String {
    RsaPublicKey::from(key)
        .to_public_key_pem(LineEnding::LF)
        .expect("PEM")
}

pub fn jwk(key: &RsaPrivateKey) -> Value {
    let public = RsaPublicKey::from(key);
    json!({
        "kty": "RSA",
        "n": URL_SAFE_NO_PAD.encode(public.n().to_bytes_be()),
        "e": URL_SAFE_NO_PAD.encode(public.e().to_bytes_be()),
    })
}

/// The document's canonical form, signed: `chatID\nclientMessageID\ntext`.
pub fn sign(key: &RsaPrivateKey, chat: &str, client_id: &str, text: &str) -> String {
    let signer = SigningKey::<Sha256>::new(key.clone());
    let signature = signer.sign(format!("{chat}\n{client_id}\n{text}").as_bytes());
    STANDARD.encode(signature.to_bytes())
}

pub fn message(key: &RsaPrivateKey, chat: &str, client_id: &str, text: &str) -> Value {
    json!({
        "chatID": chat,
        "clientMessageID": client_id,
        "text": text,
        "signature": sign(key, chat, client_id, text),
    })
}

/// A platform user's access token and GUID.
pub async fn user(stack: &Stack, key: &str, id: &str) -> (String, String) {
    let (status, pair) = stack
        .call(
            0,
            Method::POST,
            "/token",
            Some(key),
            Some(json!({"userID": id})),
        )
        .await;
    assert_eq!(status, 200, "{pair}");
    (
        pair["accessToken"].as_str().expect("token").to_owned(),
        pair["GUID"].as_str().expect("GUID").to_owned(),
    )
}

pub async fn post(stack: &Stack, replica: usize, token: &str, body: Value) -> (u16, Value) {
    stack
        .call(replica, Method::POST, "/messages", Some(token), Some(body))
        .await
}

async fn history_len(stack: &Stack, token: &str, group: &str) -> usize {
    let (status, page) = stack
        .get(1, &format!("/groups/{group}/messages"), token)
        .await;
    assert_eq!(status, 200, "{page}");
    page["messages"]
        .as_array()
        .or(page.as_array())
        .map_or(0, Vec::len)
}

async fn signed_messages_are_verified_and_refused_when_tampered(backend: Backend) {
    let stack = spawn_stack(backend, 2).await;
    let acme = stack.auth_store.create_platform("acme").await;
    let globex = stack.auth_store.create_platform("globex").await;
    let (alice, _) = user(&stack, &acme, "alice").await;
    let (bob, _) = user(&stack, &acme, "bob").await;
    let (zed, _) = user(&stack, &globex, "zed").await;
    let (status, _) = stack
        .call(
            0,
            Method::PUT,
            "/backend/chats/c1/users",
            Some(&acme),
            Some(json!({"users": ["alice", "bob"]})),
        )
        .await;
    assert_eq!(status, 200);
    let (_, shown) = stack
        .call(0, Method::GET, "/backend/chats/c1/users", Some(&acme), None)
        .await;
    let _ = shown;

    let alice_key = new_key(2048);
    let bob_key = new_key(2048);
    // Step 1: keys, as PEM and as JWK; anything else, or a short key, is refused.
    let (status, registered) = stack
        .call(
            0,
            Method::POST,
            "/keys",
            Some(&alice),
            Some(json!({"publicKey": pem(&alice_key)})),
        )
        .await;
    assert_eq!(status, 201, "{registered}");
    let alice_key_id = registered["keyID"].as_str().expect("keyID").to_owned();
    let (status, registered) = stack
        .call(
            1,
            Method::POST,
            "/keys",
            Some(&bob),
            Some(json!({"jwk": jwk(&bob_key)})),
        )
        .await;
    assert_eq!(status, 201, "{registered}");
    for bad in [
        json!({"publicKey": pem(&new_key(1024))}),
        json!({"publicKey": "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----"}),
        json!({"jwk": {"kty": "EC", "n": "AQAB", "e": "AQAB"}}),
        json!({}),
    ] {
        let (status, answer) = stack
            .call(0, Method::POST, "/keys", Some(&alice), Some(bad))
            .await;
        assert_eq!(
            (status, answer),
            (400, json!({"error": "Invalid parameters"}))
        );
    }
    let (status, _) = stack
        .call(
            0,
            Method::POST,
            "/keys",
            None,
            Some(json!({"publicKey": pem(&alice_key)})),
        )
        .await;
    assert_eq!(status, 401);
    let (status, answer) = stack
        .call(
            0,
            Method::POST,
            "/keys",
            Some(&acme),
            Some(json!({"publicKey": pem(&alice_key)})),
        )
        .await;
    assert_eq!(
        (status, answer),
        (401, json!({"error": "Unauthorized"})),
        "a backend key is not a user's"
    );

    // Step 4: a signed message.
    let (status, sent) = post(&stack, 0, &alice, message(&alice_key, "c1", "m-1", "Hello")).await;
    assert_eq!(status, 200, "{sent}");
    let first = &sent["messages"][0];
    assert_eq!(first["chatID"], "c1");
    assert_eq!(first["seq"], 1);
    assert_eq!(first["keyID"], json!(alice_key_id));
    assert_eq!(first["duplicate"], false);
    let group = chat_group(&stack, &bob).await;
    // A retry stores nothing new.
    let (status, again) = post(&stack, 1, &alice, message(&alice_key, "c1", "m-1", "Hello")).await;
    assert_eq!(status, 200);
    assert_eq!(again["messages"][0]["messageID"], first["messageID"]);
    assert_eq!(again["messages"][0]["duplicate"], true);

    // Tampered, missing, someone else's: refused, nothing stored — in a batch, nothing at all.
    let mut tampered = message(&alice_key, "c1", "m-2", "Hello");
    tampered["text"] = json!("Hello!");
    let mut unsigned = message(&alice_key, "c1", "m-3", "Hi");
    unsigned
        .as_object_mut()
        .expect("object")
        .remove("signature");
    let by_bob = message(&bob_key, "c1", "m-4", "Hi");
    for (body, error) in [
        (tampered.clone(), "Invalid signature"),
        (unsigned, "Missing signature"),
        (by_bob, "Invalid signature"),
        (
            json!({"messages": [message(&alice_key, "c1", "m-5", "fine"), tampered]}),
            "Invalid signature",
        ),
    ] {
        let (status, answer) = post(&stack, 0, &alice, body).await;
        assert_eq!((status, answer), (400, json!({"error": error})));
    }
    assert_eq!(
        history_len(&stack, &bob, &group).await,
        1,
        "nothing refused was stored"
    );

    // A receipt, then a batch of messages and a receipt (the sender's own messages already
    // count as delivered to them, so that one moves nothing).
    let receipt = json!({"receipts": [{"messageID": first["messageID"]}]});
    let (status, answer) = post(&stack, 1, &bob, receipt).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        answer,
        json!({"messages": [], "receipts": [{"messageID": first["messageID"], "advanced": true}]})
    );
    let batch = json!({
        "messages": [
            message(&bob_key, "c1", "b-1", "one"),
            message(&bob_key, "c1", "b-2", "two\nlines"),
        ],
        "receipts": [{"messageID": first["messageID"]}],
    });
    let (status, sent) = post(&stack, 1, &bob, batch).await;
    assert_eq!(status, 200, "{sent}");
    assert_eq!(sent["messages"][1]["seq"], 3);
    assert_eq!(
        sent["receipts"],
        json!([{"messageID": first["messageID"], "advanced": false}])
    );
    assert_eq!(history_len(&stack, &bob, &group).await, 3);

    // Rotation: the new key signs from now on; the old one still shows, for what it signed.
    let rotated = new_key(2048);
    let (status, registered) = stack
        .call(
            0,
            Method::POST,
            "/keys",
            Some(&alice),
            Some(json!({"publicKey": pem(&rotated)})),
        )
        .await;
    assert_eq!(status, 201);
    let rotated_id = registered["keyID"].as_str().expect("keyID").to_owned();
    let (status, answer) = post(&stack, 0, &alice, message(&alice_key, "c1", "m-6", "old")).await;
    assert_eq!(
        (status, answer),
        (400, json!({"error": "Invalid signature"}))
    );
    let (status, sent) = post(&stack, 0, &alice, message(&rotated, "c1", "m-6", "new")).await;
    assert_eq!(status, 200);
    assert_eq!(sent["messages"][0]["keyID"], json!(rotated_id));
    let (status, old) = stack
        .call(
            1,
            Method::GET,
            &format!("/keys/{alice_key_id}"),
            Some(&bob),
            None,
        )
        .await;
    assert_eq!(status, 200, "{old}");
    assert_eq!(old["publicKey"], json!(pem(&alice_key)));

    // Tenancy: another platform's user reaches neither the chat nor the keys.
    let zed_key = new_key(2048);
    let (status, _) = stack
        .call(
            0,
            Method::POST,
            "/keys",
            Some(&zed),
            Some(json!({"publicKey": pem(&zed_key)})),
        )
        .await;
    assert_eq!(status, 201);
    let (status, answer) = post(&stack, 0, &zed, message(&zed_key, "c1", "z-1", "hi")).await;
    assert_eq!(
        (status, answer),
        (404, json!({"error": "ChatID not found"}))
    );
    let (status, answer) = stack
        .call(
            0,
            Method::GET,
            &format!("/keys/{alice_key_id}"),
            Some(&zed),
            None,
        )
        .await;
    assert_eq!((status, answer), (404, json!({"error": "Key not found"})));
    let (status, answer) = post(
        &stack,
        0,
        &zed,
        json!({"receipts": [{"messageID": first["messageID"]}]}),
    )
    .await;
    assert_eq!(
        (status, answer),
        (404, json!({"error": "Message not found"}))
    );
    // A user of the platform who is not in the chat, and a chat that does not exist.
    let (carol, _) = user(&stack, &acme, "carol").await;
    let carol_key = new_key(2048);
    stack
        .call(
            0,
            Method::POST,
            "/keys",
            Some(&carol),
            Some(json!({"publicKey": pem(&carol_key)})),
        )
        .await;
    let (status, answer) = post(&stack, 0, &carol, message(&carol_key, "c1", "c-1", "hi")).await;
    assert_eq!(
        (status, answer),
        (403, json!({"error": "Not a member of the chat"}))
    );
    let (status, answer) = post(&stack, 0, &carol, message(&carol_key, "nope", "c-1", "hi")).await;
    assert_eq!(
        (status, answer),
        (404, json!({"error": "ChatID not found"}))
    );
    for body in [
        json!({}),
        json!({"messages": []}),
        json!({"chatID": "c1", "text": "no id"}),
        json!({"chatID": "bad id", "clientMessageID": "x", "text": "t", "signature": "AA=="}),
    ] {
        let (status, answer) = post(&stack, 0, &alice, body.clone()).await;
        assert_eq!(
            (status, answer),
            (400, json!({"error": "Invalid parameters"})),
            "{body}"
        );
    }
    assert_eq!(history_len(&stack, &bob, &group).await, 4);
}

/// The id of the one group the user is in, as the native protocol shows it.
async fn chat_group(stack: &Stack, token: &str) -> String {
    let (status, groups) = stack.get(0, "/groups", token).await;
    assert_eq!(status, 200, "{groups}");
    groups[0]["id"].as_str().expect("a group id").to_owned()
}

async fn poll(stack: &Stack, replica: usize, token: &str, query: &str) -> Value {
    let (status, answer) = stack
        .call(
            replica,
            Method::GET,
            &format!("/messages{query}"),
            Some(token),
            None,
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    answer
}

fn texts(poll: &Value) -> Vec<&str> {
    poll["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| m["text"].as_str().expect("text"))
        .collect()
}

async fn polls_return_each_message_once_with_receipts_and_long_polls_wake_at_once(
    backend: Backend,
) {
    let stack = std::sync::Arc::new(spawn_stack(backend, 2).await);
    let acme = stack.auth_store.create_platform("acme").await;
    let globex = stack.auth_store.create_platform("globex").await;
    let (alice, alice_guid) = user(&stack, &acme, "alice").await;
    let (bob, bob_guid) = user(&stack, &acme, "bob").await;
    let (zed, _) = user(&stack, &globex, "zed").await;
    for (who, chat) in [(&acme, "c1"), (&globex, "c1")] {
        let users = if who == &acme {
            json!(["alice", "bob"])
        } else {
            json!(["zed"])
        };
        let (status, _) = stack
            .call(
                0,
                Method::PUT,
                &format!("/backend/chats/{chat}/users"),
                Some(who),
                Some(json!({"users": users})),
            )
            .await;
        assert_eq!(status, 200);
    }
    let key = new_key(2048);
    let (status, _) = stack
        .call(
            0,
            Method::POST,
            "/keys",
            Some(&alice),
            Some(json!({"publicKey": pem(&key)})),
        )
        .await;
    assert_eq!(status, 201);
    for (id, text) in [("m-1", "one"), ("m-2", "two")] {
        let (status, _) = post(&stack, 0, &alice, message(&key, "c1", id, text)).await;
        assert_eq!(status, 200);
    }

    // Step 5 on the other replica: both messages, signed, with the key that verifies them.
    let first = poll(&stack, 1, &bob, "").await;
    assert_eq!(texts(&first), ["one", "two"]);
    let got = &first["messages"][1];
    assert_eq!(
        (got["chatID"].as_str(), got["senderUserID"].as_str()),
        (Some("c1"), Some("alice"))
    );
    assert_eq!(got["senderGUID"], json!(alice_guid));
    let (status, shown) = stack
        .call(
            1,
            Method::GET,
            &format!("/keys/{}", got["keyID"].as_str().expect("keyID")),
            Some(&bob),
            None,
        )
        .await;
    assert_eq!(status, 200);
    let public = RsaPublicKey::from_public_key_pem(shown["publicKey"].as_str().expect("PEM"))
        .expect("a key");
    let signature = STANDARD
        .decode(got["signature"].as_str().expect("signature"))
        .expect("base64");
    VerifyingKey::<Sha256>::new(public)
        .verify(
            b"c1\nm-2\ntwo",
            &Signature::try_from(signature.as_slice()).expect("a signature"),
        )
        .expect("the recipient verifies the signature end to end");
    // Nothing twice: the next poll from the cursor is empty.
    let cursor = first["nextCursor"].as_str().expect("cursor").to_owned();
    let again = poll(&stack, 0, &bob, &format!("?cursor={cursor}")).await;
    assert_eq!(texts(&again), Vec::<&str>::new());
    assert_eq!(again["nextCursor"], json!(cursor));

    // What the poll returned counts as delivered: Alice gets the receipt, through any dialect.
    let mut receipts = Vec::new();
    for _ in 0..50 {
        let seen = poll(&stack, 0, &alice, "").await;
        receipts = seen["receipts"].as_array().expect("receipts").clone();
        if !receipts.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(receipts.len(), 1, "{receipts:?}");
    assert_eq!(receipts[0]["userGUID"], json!(bob_guid));
    assert_eq!(receipts[0]["userID"], "bob");
    assert_eq!(receipts[0]["seq"], 2);
    assert_eq!(receipts[0]["messageID"], got["messageID"]);

    // Long poll: it answers as soon as a message arrives on the other replica.
    let waiting = {
        let (stack, bob, cursor) = (stack.clone(), bob.clone(), cursor.clone());
        tokio::spawn(async move {
            let answer = poll(&stack, 1, &bob, &format!("?cursor={cursor}&wait=20")).await;
            (answer, std::time::Instant::now())
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert!(!waiting.is_finished(), "an empty long poll waits");
    let (status, _) = post(&stack, 0, &alice, message(&key, "c1", "m-3", "three")).await;
    let sent_at = std::time::Instant::now();
    assert_eq!(status, 200);
    let (woken, answered_at) = tokio::time::timeout(std::time::Duration::from_secs(5), waiting)
        .await
        .expect("the long poll answers")
        .expect("the poll task");
    let latency = answered_at.saturating_duration_since(sent_at);
    eprintln!("{backend:?}: the long poll answered {latency:?} after the send's answer");
    assert!(
        latency < std::time::Duration::from_millis(1000),
        "answered {latency:?} after the send"
    );
    assert_eq!(texts(&woken), ["three"]);
    let cursor = woken["nextCursor"].as_str().expect("cursor").to_owned();
    // An empty long poll answers at the end of its wait, with the same cursor.
    let started = std::time::Instant::now();
    let empty = poll(&stack, 0, &bob, &format!("?cursor={cursor}&wait=1")).await;
    assert!(started.elapsed() >= std::time::Duration::from_millis(900));
    assert_eq!(
        (texts(&empty), &empty["nextCursor"]),
        (vec![], &json!(cursor))
    );

    // Tenancy: the other platform's user with a chat of the same id gets none of it.
    let theirs = poll(&stack, 1, &zed, "").await;
    assert_eq!(texts(&theirs), Vec::<&str>::new());
    for query in ["?wait=31", "?cursor=abc", "?wait=-1"] {
        let (status, answer) = stack
            .call(
                0,
                Method::GET,
                &format!("/messages{query}"),
                Some(&bob),
                None,
            )
            .await;
        assert_eq!(
            (status, answer),
            (400, json!({"error": "Invalid parameters"})),
            "{query}"
        );
    }
    let (status, _) = stack
        .call(0, Method::GET, "/messages", Some(&acme), None)
        .await;
    assert_eq!(status, 401, "a backend key is not a user's token");

    // Step 6: the chat is closed; polls go on without it.
    let (status, _) = stack
        .call(1, Method::DELETE, "/chats/c1", Some(&acme), None)
        .await;
    assert_eq!(status, 200);
    let after = poll(&stack, 0, &bob, &format!("?cursor={cursor}")).await;
    assert_eq!(texts(&after), Vec::<&str>::new());
}
