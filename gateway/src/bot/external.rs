//! An external bot: a `BotService` (proto/proto/bot.proto) at `--bot <url>`. One `Converse`
//! stream per gateway replica carries every question, each with its own `request_id`; a
//! reader task hands each reply to the question waiting for it. A stream that breaks (the bot
//! restarted, the network) is opened again by the next question; a bot that is down or slow
//! costs a question at most [`ANSWER_TIMEOUT`], never a hang.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chat_proto::bot::bot_service_client::BotServiceClient;
use chat_proto::bot::{BotReply, BotRequest, BotUser};
use chat_proto::chat::Message;
use tokio::sync::{mpsc, oneshot};
use tokio_stream::StreamExt;
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::{Channel, Endpoint};

use super::{Asker, MAX_MESSAGE_BYTES};

/// How long a question waits for the bot's answer, connecting included.
pub const ANSWER_TIMEOUT: Duration = Duration::from_secs(5);
/// Questions that may wait to be written to the stream.
const QUEUE: usize = 256;

type Pending = Arc<Mutex<HashMap<u64, oneshot::Sender<BotReply>>>>;

/// A bot process reached over gRPC.
#[derive(Clone)]
pub struct ExternalBot(Arc<Inner>);

struct Inner {
    url: String,
    client: BotServiceClient<Channel>,
    next_id: AtomicU64,
    /// The open stream, if any: where questions go, and who waits for which reply.
    stream: tokio::sync::Mutex<Option<Open>>,
}

struct Open {
    questions: mpsc::Sender<BotRequest>,
    pending: Pending,
    /// Cleared by the reader once the bot's side of the stream is over.
    alive: Arc<AtomicBool>,
}

impl Open {
    fn usable(&self) -> bool {
        self.alive.load(Ordering::Relaxed) && !self.questions.is_closed()
    }
}

impl std::fmt::Debug for ExternalBot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExternalBot")
            .field("url", &self.0.url)
            .finish()
    }
}

/// Why a question got no answer.
#[derive(Debug, thiserror::Error)]
pub enum BotError {
    #[error("it cannot be reached")]
    Unreachable,
    #[error("it did not answer within {} seconds", ANSWER_TIMEOUT.as_secs())]
    Timeout,
    #[error("its answer was not 1 to {MAX_MESSAGE_BYTES} bytes")]
    InvalidAnswer,
}

impl ExternalBot {
    /// A client of the bot at `url`; it connects on the first question.
    pub fn connect_lazy(url: &str) -> anyhow::Result<Self> {
        let endpoint = Endpoint::from_shared(url.to_owned())
            .map_err(|error| anyhow::anyhow!("invalid bot URL {url:?}: {error}"))?
            .connect_timeout(ANSWER_TIMEOUT)
            .tcp_nodelay(true);
        Ok(Self(Arc::new(Inner {
            url: url.to_owned(),
            client: BotServiceClient::new(endpoint.connect_lazy()),
            next_id: AtomicU64::new(1),
            stream: tokio::sync::Mutex::new(None),
        })))
    }

    /// The bot's answer to `message`; `None` when it leaves the message to the built-in bot.
    pub async fn ask(&self, asker: &Asker, message: &Message) -> Result<Option<String>, BotError> {
        let request_id = self.0.next_id.fetch_add(1, Ordering::Relaxed);
        let user = &asker.user;
        let question = BotRequest {
            request_id,
            user: Some(BotUser {
                id: user.id.clone(),
                number: user.number,
                username: user.username.clone(),
                first_name: user.first_name.clone(),
                last_name: user.last_name.clone(),
            }),
            message: message.body.clone(),
            sent_at_ms: message.created_at_ms,
            conversation_number: message.conversation_number,
            message_number: message.number,
        };
        let asked = tokio::time::timeout(ANSWER_TIMEOUT, self.exchange(request_id, question));
        let reply = match asked.await {
            Ok(reply) => reply,
            Err(_) => {
                self.forget(request_id).await;
                return Err(BotError::Timeout);
            }
        }?;
        if reply.declined {
            return Ok(None);
        }
        if reply.message.trim().is_empty() || reply.message.len() > MAX_MESSAGE_BYTES {
            return Err(BotError::InvalidAnswer);
        }
        Ok(Some(reply.message))
    }

    async fn exchange(&self, request_id: u64, question: BotRequest) -> Result<BotReply, BotError> {
        let (answered, answer) = oneshot::channel();
        {
            let mut stream = self.0.stream.lock().await;
            let open = match stream.as_ref() {
                Some(open) if open.usable() => open,
                _ => stream.insert(self.open().await?),
            };
            lock(&open.pending).insert(request_id, answered);
            if open.questions.send(question).await.is_err() {
                lock(&open.pending).remove(&request_id);
                *stream = None;
                return Err(BotError::Unreachable);
            }
        }
        // The reader drops the sender when the stream ends: that is no answer.
        answer.await.map_err(|_| BotError::Unreachable)
    }

    /// Opens a `Converse` stream and starts the task that hands out its replies.
    async fn open(&self) -> Result<Open, BotError> {
        let (questions, queued) = mpsc::channel(QUEUE);
        let replies = self
            .0
            .client
            .clone()
            .converse(ReceiverStream::new(queued))
            .await
            .map_err(|status| {
                tracing::debug!(error = %status, url = %self.0.url, "cannot open the bot stream");
                BotError::Unreachable
            })?
            .into_inner();
        let pending: Pending = Arc::default();
        let alive = Arc::new(AtomicBool::new(true));
        let (handing, living) = (pending.clone(), alive.clone());
        tokio::spawn(async move {
            let mut replies = replies;
            while let Some(Ok(reply)) = replies.next().await {
                if let Some(waiting) = lock(&handing).remove(&reply.request_id) {
                    let _ = waiting.send(reply);
                }
            }
            // The stream is over: whoever still waits gets no answer.
            living.store(false, Ordering::Relaxed);
            lock(&handing).clear();
        });
        Ok(Open {
            questions,
            pending,
            alive,
        })
    }

    async fn forget(&self, request_id: u64) {
        if let Some(open) = self.0.stream.lock().await.as_ref() {
            lock(&open.pending).remove(&request_id);
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
