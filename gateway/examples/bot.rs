//! A tiny external bot for the web app's bot chat: a `BotService` (proto/proto/bot.proto) that
//! knows two commands and leaves everything else to the built-in bot, so it joins it rather
//! than replacing it.
//!
//! - `reverse <text>` answers the text reversed;
//! - `roll [sides]` rolls a die (6 sides unless told);
//! - anything else is declined: the gateway's built-in bot answers it.
//!
//! Run it, then point the gateway (or `cargo run`) at it:
//!
//! ```text
//! cargo run -p gateway --example bot -- 127.0.0.1:50060
//! cargo run --release -- --bot http://127.0.0.1:50060
//! ```
//!
//! A bot in any language with gRPC does the same: serve `bot.v1.BotService/Converse`, read
//! `BotRequest`s, and write a `BotReply` with the same `request_id` for each.

use std::pin::Pin;

use chat_proto::bot::bot_service_server::{BotService, BotServiceServer};
use chat_proto::bot::{BotReply, BotRequest};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_stream::wrappers::{ReceiverStream, TcpListenerStream};
use tokio_stream::{Stream, StreamExt};
use tonic::{Request, Response, Status, Streaming};

/// The bot: stateless, so one serves every gateway's stream.
pub struct ExampleBot;

/// The answer to one message: `None` declines it.
pub fn answer(message: &str) -> Option<String> {
    let message = message.trim();
    let (command, rest) = message
        .split_once(char::is_whitespace)
        .unwrap_or((message, ""));
    match command.to_lowercase().as_str() {
        "reverse" if !rest.trim().is_empty() => Some(rest.trim().chars().rev().collect()),
        "roll" => {
            let sides: u128 = rest.trim().parse().unwrap_or(6).clamp(2, 1000);
            let rolled = uuid::Uuid::new_v4().as_u128() % sides + 1;
            Some(format!("🎲 {rolled} (1–{sides})"))
        }
        _ => None,
    }
}

#[tonic::async_trait]
impl BotService for ExampleBot {
    type ConverseStream = Pin<Box<dyn Stream<Item = Result<BotReply, Status>> + Send>>;

    async fn converse(
        &self,
        request: Request<Streaming<BotRequest>>,
    ) -> Result<Response<Self::ConverseStream>, Status> {
        let mut questions = request.into_inner();
        let (replies, outgoing) = mpsc::channel(64);
        tokio::spawn(async move {
            while let Some(Ok(question)) = questions.next().await {
                let reply = match answer(&question.message) {
                    Some(message) => BotReply {
                        request_id: question.request_id,
                        message,
                        declined: false,
                    },
                    None => BotReply {
                        request_id: question.request_id,
                        message: String::new(),
                        declined: true,
                    },
                };
                if replies.send(Ok(reply)).await.is_err() {
                    break;
                }
            }
        });
        Ok(Response::new(Box::pin(ReceiverStream::new(outgoing))))
    }
}

/// Serves the bot on `listener` until the process ends.
pub async fn serve(listener: TcpListener) -> Result<(), tonic::transport::Error> {
    tonic::transport::Server::builder()
        .add_service(BotServiceServer::new(ExampleBot))
        .serve_with_incoming(TcpListenerStream::new(listener))
        .await
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let address = std::env::args()
        .nth(1)
        .or_else(|| std::env::var("BOT_LISTEN").ok())
        .unwrap_or_else(|| "127.0.0.1:50060".to_owned());
    let listener = TcpListener::bind(&address).await?;
    println!("example bot listening on http://{}", listener.local_addr()?);
    serve(listener).await?;
    Ok(())
}
