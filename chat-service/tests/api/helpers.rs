//! Starting chat-service for a test (a fresh database, a random port) and the calls tests share.

use std::future::Future;
use std::time::{Duration, Instant};

use chat_proto::chat::chat_client::ChatClient;
use chat_proto::chat::{
    CatchUpRequest, Conversation, ConversationEvent, CreateGroupRequest, ListMessagesRequest,
    Message, ReadLogRequest, SendMessageRequest,
};
use chat_service::PgChatStore;
use service_runtime::postgres::{create_test_database, test_admin_url};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic::transport::Channel;
use tonic::{Code, Response, Status};

pub type Client = ChatClient<Channel>;

// Fixed ids keep failure output readable; every test has a database of its own.
pub const ALICE: &str = "a11ce000-0000-4000-8000-000000000001";
pub const BOB: &str = "b0b00000-0000-4000-8000-000000000002";
pub const CAROL: &str = "ca201000-0000-4000-8000-000000000003";
pub const DAVE: &str = "da7e0000-0000-4000-8000-000000000004";

/// Starts chat-service on a fresh database and returns a client connected to it. The server
/// lives until the test's runtime ends.
pub async fn spawn_chat() -> Client {
    let (channel, _server) = spawn_server(std::future::pending()).await;
    ChatClient::new(channel)
}

/// A server the test stops itself.
pub struct StoppableChat {
    pub channel: Channel,
    pub stop: oneshot::Sender<()>,
    pub server: JoinHandle<anyhow::Result<()>>,
}

pub async fn spawn_stoppable_chat() -> StoppableChat {
    let (stop, stopped) = oneshot::channel::<()>();
    let (channel, server) = spawn_server(async move {
        stopped.await.ok();
    })
    .await;
    StoppableChat {
        channel,
        stop,
        server,
    }
}

async fn spawn_server(
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> (Channel, JoinHandle<anyhow::Result<()>>) {
    // No skipping: without Postgres these tests fail, saying so.
    let url = create_test_database(&test_admin_url())
        .await
        .unwrap_or_else(|error| panic!("cannot create a test database: {error:#}"));
    let store = PgChatStore::connect(&url, 20)
        .await
        .unwrap_or_else(|error| panic!("cannot connect the chat store: {error:#}"));
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a random port");
    let address = listener.local_addr().expect("the listener's address");
    let server = tokio::spawn(chat_service::serve(listener, store, None, shutdown));
    // Tuned as every service's client is.
    let endpoint = Channel::from_shared(format!("http://{address}")).expect("a valid URI");
    let channel = service_runtime::grpc::endpoint(endpoint)
        .connect()
        .await
        .expect("connect to chat-service");
    (channel, server)
}

/// Asserts that a call was refused with `code` and the `x-error-code` clients match on.
#[track_caller]
pub fn assert_refused<T: std::fmt::Debug>(
    result: Result<Response<T>, Status>,
    code: Code,
    error_code: &str,
) {
    let status = result.expect_err("the call should have been refused");
    assert_eq!(status.code(), code, "{status:?}");
    let sent = status
        .metadata()
        .get("x-error-code")
        .and_then(|value| value.to_str().ok());
    assert_eq!(sent, Some(error_code), "{status:?}");
}

pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Lets the clock move on, so that what comes next has a later millisecond.
pub async fn tick() {
    tokio::time::sleep(std::time::Duration::from_millis(15)).await;
}

pub async fn create_group(client: &mut Client, creator: &str, members: &[&str]) -> Conversation {
    client
        .create_group(CreateGroupRequest {
            creator_id: creator.into(),
            name: "Team".into(),
            member_ids: members.iter().map(|m| m.to_string()).collect(),
            is_public: false,
            external_id: String::new(),
        })
        .await
        .expect("create a group")
        .into_inner()
}

pub fn send_request(sender: &str, conversation: &str, body: &str) -> SendMessageRequest {
    SendMessageRequest {
        sender_id: sender.into(),
        conversation_id: conversation.into(),
        body: body.into(),
        ..Default::default()
    }
}

pub async fn send(client: &mut Client, sender: &str, conversation: &str, body: &str) -> Message {
    client
        .send_message(send_request(sender, conversation, body))
        .await
        .expect("send a message")
        .into_inner()
        .message
        .expect("the stored message")
}

pub async fn list_messages(client: &mut Client, request: ListMessagesRequest) -> (Vec<i64>, bool) {
    let page = client
        .list_messages(request)
        .await
        .expect("list messages")
        .into_inner();
    (page.messages.iter().map(|m| m.seq).collect(), page.has_more)
}

/// Someone in no test's story: the groups they create mark points in the log.
pub const WITNESS: &str = "e1e1e1e1-0000-4000-8000-000000000005";

/// Waits until everything written so far has its position (the relay gives positions after
/// commit, asynchronously), and returns a position after all of it.
pub async fn settle(client: &mut Client) -> i64 {
    let marker = create_group(client, WITNESS, &[]).await;
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let logged = client
            .read_log(ReadLogRequest {
                user_ids: vec![WITNESS.into()],
                limit: 1000,
                ..Default::default()
            })
            .await
            .expect("read the log")
            .into_inner();
        let marked = logged.entries.iter().find_map(|entry| {
            let event = entry.event.as_ref()?;
            (event.conversation_id == marker.id).then_some(entry.position)
        });
        if let Some(position) = marked {
            return position;
        }
        assert!(
            Instant::now() < deadline,
            "the relay positioned nothing within 5 s"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Everything `user` catches up on after `after`, once all that was written is positioned,
/// read page by page.
pub async fn catch_up(client: &mut Client, user: &str, after: i64) -> Vec<ConversationEvent> {
    settle(client).await;
    let mut events = Vec::new();
    let mut cursor = String::new();
    loop {
        let page = client
            .catch_up(CatchUpRequest {
                user_id: user.into(),
                after_position: Some(after),
                cursor,
                limit: 1000,
                ..Default::default()
            })
            .await
            .expect("catch up")
            .into_inner();
        events.extend(page.events);
        if page.next_cursor.is_empty() {
            return events;
        }
        cursor = page.next_cursor;
    }
}
