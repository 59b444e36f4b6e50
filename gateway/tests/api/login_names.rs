//! A login naming a user with a control character (NUL above all, which Postgres cannot store
//! or compare) is the client's mistake: every dialect answers it in its own error shape with a
//! 4xx, as registration does, never a 500.

use serde_json::{Value, json};

use crate::helpers::{Backend, spawn_stack};

backend_tests!(a_control_character_in_a_login_name_is_a_client_error);

async fn a_control_character_in_a_login_name_is_a_client_error(backend: Backend) {
    let stack = spawn_stack(backend, 1).await;
    stack.user(0, "pat").await;
    for name in ["pa\0t", "pat\u{7}", "\0"] {
        // The native protocol, by username and by email: {"error":{"code","message"}}, 422.
        for body in [
            json!({"username": name, "password": "0000"}),
            json!({"email": format!("{name}@example.com"), "password": "0000"}),
        ] {
            let (status, answer) = stack.post(0, "/login", None, body.clone()).await;
            assert_eq!(
                (status, &answer["error"]["code"]),
                (422, &json!("validation_failed")),
                "native {body}: {answer}"
            );
        }
        // e_chat_server: the same shape, 422.
        let body = json!({"login": name, "password": "0000"});
        let (status, answer) = stack.post(0, "/v1/login", None, body).await;
        assert_eq!(
            (status, &answer["error"]["code"]),
            (422, &json!("validation_failed")),
            "echat {name:?}: {answer}"
        );
        // The messenger, by email and by a name without @: {"error":true,"code","message"}, 400.
        for login in [format!("{name}@example.com"), name.to_owned()] {
            let body = json!({"email": login, "password": "0000"});
            let (status, answer) = stack.post(0, "/api/auth/login", None, body).await;
            assert_eq!(
                (status, &answer["error"], &answer["code"]),
                (400, &Value::Bool(true), &json!("validation_failed")),
                "messenger {login:?}: {answer}"
            );
        }
    }
    // The name without the control character still logs in.
    let body = json!({"username": "pat", "password": "0000"});
    let (status, answer) = stack.post(0, "/login", None, body).await;
    assert_eq!(status, 200, "{answer}");
}
