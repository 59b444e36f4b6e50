//! Bad frames get an error event and the socket stays open; an oversized frame closes it with
//! 1009, a text frame that is not UTF-8 with 1007, a frame that breaks the protocol with 1002;
//! an unknown messaging URL is refused before the upgrade; a client's close is answered.

use serde_json::json;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use crate::helpers::{Backend, Socket, spawn_stack};

backend_tests!(
    malformed_frames_get_error_events_and_the_socket_stays_open,
    an_oversized_frame_closes_the_socket_with_1009,
    frames_that_break_the_protocol_close_with_its_codes,
    an_unknown_messaging_url_is_refused_before_the_upgrade
);

async fn malformed_frames_get_error_events_and_the_socket_stays_open(backend: Backend) {
    let stack = spawn_stack(backend, 1).await;
    let alice = stack.user(0, "alice").await;
    let group = stack.group(0, &alice, "errors", &[]).await;
    let mut socket = Socket::connect(&alice.messaging_url).await;

    socket.send_text("{not json").await;
    assert_eq!(socket.expect(99).await["body"]["code"], "invalid_json");
    socket.send_text("[1, 2]").await;
    assert_eq!(socket.expect(99).await["body"]["code"], "invalid_request");
    socket.send(json!({"method": "forty"})).await;
    assert_eq!(socket.expect(99).await["body"]["code"], "invalid_request");
    socket.send(json!({"method": 77})).await;
    let error = socket.expect(99).await;
    assert_eq!(error["body"]["code"], "unknown_method");
    assert_eq!(error["body"]["method"], 77);
    socket
        .send(json!({"method": 40, "body": {"group_id": group}}))
        .await;
    assert_eq!(socket.expect(99).await["body"]["code"], "validation_failed");
    socket
        .send(json!({"method": 40, "body": {"group_id": "nope", "data": "x"}}))
        .await;
    assert_eq!(
        socket.expect(99).await["body"]["code"],
        "conversation_not_found"
    );
    socket
        .send(json!({"method": 41, "body": {"message_id": uuid::Uuid::new_v4()}}))
        .await;
    assert_eq!(socket.expect(99).await["body"]["code"], "message_not_found");
    socket
        .send(json!({"method": 20, "timestamp": "yesterday"}))
        .await;
    assert_eq!(socket.expect(99).await["body"]["code"], "validation_failed");

    // Still open and working.
    socket
        .send(json!({"method": 40, "body": {"group_id": group, "data": "still here"}}))
        .await;
    assert_eq!(socket.expect(21).await["body"]["seq"], 1);
}

async fn an_oversized_frame_closes_the_socket_with_1009(backend: Backend) {
    let stack = spawn_stack(backend, 1).await;
    let alice = stack.user(0, "alice").await;
    let group = stack.group(0, &alice, "big", &[]).await;
    let mut socket = Socket::connect(&alice.messaging_url).await;
    let big = "x".repeat(65 * 1024);
    socket
        .send(json!({"method": 40, "body": {"group_id": group, "data": big}}))
        .await;
    assert_eq!(socket.expect_close().await, CloseCode::Size);
    let (_, history) = stack
        .get(0, &format!("/groups/{group}/messages"), &alice.token)
        .await;
    assert_eq!(history["messages"], json!([]), "nothing was stored");
}

async fn an_unknown_messaging_url_is_refused_before_the_upgrade(backend: Backend) {
    let stack = spawn_stack(backend, 1).await;
    let url = format!(
        "{}/{}",
        stack.gateways[0].replace("http://", "ws://"),
        uuid::Uuid::new_v4()
    );
    let error = tokio_tungstenite::connect_async(url)
        .await
        .expect_err("refused");
    match error {
        tokio_tungstenite::tungstenite::Error::Http(response) => {
            assert_eq!(response.status().as_u16(), 401)
        }
        other => panic!("expected an HTTP refusal, got {other}"),
    }
}

/// Opens a WebSocket by hand (the client libraries refuse to send broken frames), sends `frame`
/// as raw bytes, and returns the code of the close frame the server answers with.
async fn close_code_for_raw_frame(messaging_url: &str, frame: &[u8]) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let url = reqwest::Url::parse(messaging_url).expect("a messaging URL");
    let address = format!("{}:{}", url.host_str().unwrap(), url.port().unwrap());
    let mut tcp = tokio::net::TcpStream::connect(&address)
        .await
        .expect("connects");
    let request = format!(
        "GET {} HTTP/1.1\r\nHost: {address}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
        url.path()
    );
    tcp.write_all(request.as_bytes()).await.unwrap();
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut byte = [0u8; 1];
        tcp.read_exact(&mut byte)
            .await
            .expect("the handshake's answer");
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head);
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    tcp.write_all(frame).await.unwrap();
    let read = async {
        loop {
            let mut header = [0u8; 2];
            tcp.read_exact(&mut header)
                .await
                .expect("a frame before the end");
            let mut length = u64::from(header[1] & 0x7f);
            if length == 126 {
                let mut extended = [0u8; 2];
                tcp.read_exact(&mut extended).await.unwrap();
                length = u64::from(u16::from_be_bytes(extended));
            }
            let mut payload = vec![0u8; length as usize];
            tcp.read_exact(&mut payload).await.unwrap();
            if header[0] & 0x0f == 0x8 {
                assert!(payload.len() >= 2, "a close frame with a code");
                return u16::from_be_bytes([payload[0], payload[1]]);
            }
        }
    };
    tokio::time::timeout(std::time::Duration::from_secs(5), read)
        .await
        .expect("a close frame within 5 s")
}

/// A client frame: FIN, `opcode`, masked with a zero key unless `masked` is false.
fn client_frame(opcode: u8, payload: &[u8], masked: bool) -> Vec<u8> {
    assert!(payload.len() < 126);
    let mut frame = vec![0x80 | opcode, payload.len() as u8];
    if masked {
        frame[1] |= 0x80;
        frame.extend_from_slice(&[0, 0, 0, 0]);
    }
    frame.extend_from_slice(payload);
    frame
}

async fn frames_that_break_the_protocol_close_with_its_codes(backend: Backend) {
    let stack = spawn_stack(backend, 1).await;
    let cases: [(&str, Vec<u8>, u16); 5] = [
        // Not an error: the client closes, and the server answers with its close (RFC 6455,
        // 5.5.1), not by dropping the connection (which the client sees as 1006).
        (
            "a close from the client",
            client_frame(0x8, &1000u16.to_be_bytes(), true),
            1000,
        ),
        (
            "invalid UTF-8 in a text frame",
            client_frame(0x1, &[0xff, 0xfe, 0xfd], true),
            1007,
        ),
        ("a reserved opcode", client_frame(0x3, b"x", true), 1002),
        (
            "an unmasked client frame",
            client_frame(0x1, b"{}", false),
            1002,
        ),
        (
            "a ping over 125 bytes",
            {
                let mut frame = vec![0x89, 0x80 | 126, 0, 200, 0, 0, 0, 0];
                frame.extend_from_slice(&[b'p'; 200]);
                frame
            },
            1002,
        ),
    ];
    for (n, (what, frame, code)) in cases.into_iter().enumerate() {
        // Each case on a socket of its own: the socket closes.
        let user = stack.user(0, &format!("raw{n}")).await;
        assert_eq!(
            close_code_for_raw_frame(&user.messaging_url, &frame).await,
            code,
            "{what}"
        );
    }
}
