//! What a batch of sends does, decided the same way on every store once it holds the
//! conversations' locks: who may send, which sends retry a message already stored (by an earlier
//! call, or earlier in the same batch) and which are stored now — then one answer per send.

use std::collections::HashMap;

use chat_proto::chat::{Message, SendMessageResponse};
use uuid::Uuid;

use crate::error::ChatError;
use crate::store::{NewMessage, StoreResult};

/// A stored message's retry key: conversation, sender, client message id.
pub type RetryKey = (Uuid, Uuid, String);

/// The conversations a batch sends to, each once, in lock order.
pub fn conversation_ids(sends: &[NewMessage]) -> Vec<Uuid> {
    let mut ids: Vec<Uuid> = sends.iter().map(|send| send.conversation).collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// Whether `send` may go, given its conversation's current members (`None`: no such
/// conversation).
pub fn may_send(send: &NewMessage, members: Option<&[String]>) -> Result<(), ChatError> {
    match members {
        None => Err(ChatError::ConversationNotFound),
        Some(members) if members.contains(&send.sender.to_string()) => Ok(()),
        Some(_) => Err(ChatError::NotAMember),
    }
}

/// A send's fate.
enum Fate {
    Refused(ChatError),
    /// A retry of a message stored by an earlier call.
    Earlier(Message),
    /// The `n`th message this batch stores.
    New(usize),
    /// A retry of the `n`th message this batch stores.
    Again(usize),
}

/// Each send's fate, and the sends to store, in order.
pub struct Plan<'a> {
    fates: Vec<Fate>,
    pub fresh: Vec<&'a NewMessage>,
}

impl<'a> Plan<'a> {
    /// `allowed` holds [`may_send`]'s answer for each send; `earlier` the messages already stored
    /// under the retry keys of the allowed sends.
    pub fn new(
        sends: &'a [NewMessage],
        allowed: Vec<Result<(), ChatError>>,
        earlier: &HashMap<RetryKey, Message>,
    ) -> Self {
        let mut fates = Vec::with_capacity(sends.len());
        let mut fresh: Vec<&NewMessage> = Vec::new();
        let mut first_of: HashMap<(Uuid, Uuid, &str), usize> = HashMap::new();
        for (send, allowed) in sends.iter().zip(allowed) {
            if let Err(error) = allowed {
                fates.push(Fate::Refused(error));
                continue;
            }
            if let Some(client_id) = send.client_message_id.as_deref() {
                let key = (send.conversation, send.sender, client_id);
                if let Some(original) = earlier.get(&(key.0, key.1, client_id.to_owned())) {
                    fates.push(Fate::Earlier(original.clone()));
                    continue;
                }
                if let Some(&n) = first_of.get(&key) {
                    fates.push(Fate::Again(n));
                    continue;
                }
                first_of.insert(key, fresh.len());
            }
            fates.push(Fate::New(fresh.len()));
            fresh.push(send);
        }
        Self { fates, fresh }
    }

    /// One answer per send: `stored` are the fresh sends' messages, in order; `audience` gives a
    /// conversation's current member ids and kind.
    pub fn answer(
        self,
        sends: &[NewMessage],
        stored: &[Message],
        audience: impl Fn(&Uuid) -> (Vec<String>, i32),
    ) -> Vec<StoreResult<SendMessageResponse>> {
        sends
            .iter()
            .zip(self.fates)
            .map(|(send, fate)| {
                let (message, duplicate) = match fate {
                    Fate::Refused(error) => return Err(error),
                    Fate::Earlier(original) => (original, true),
                    Fate::New(n) => (stored[n].clone(), false),
                    Fate::Again(n) => (stored[n].clone(), true),
                };
                let (member_ids, conversation_kind) = audience(&send.conversation);
                Ok(SendMessageResponse {
                    message: Some(message),
                    duplicate,
                    member_ids,
                    conversation_kind,
                })
            })
            .collect()
    }
}

/// The sends of a batch that may go, for the look-up of their retry keys.
pub fn permitted<'a>(
    sends: &'a [NewMessage],
    allowed: &'a [Result<(), ChatError>],
) -> impl Iterator<Item = &'a NewMessage> {
    sends
        .iter()
        .zip(allowed)
        .filter(|(_, allowed)| allowed.is_ok())
        .map(|(send, _)| send)
}
