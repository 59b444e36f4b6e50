//! Reading the event log in the conformance cases: `Log` plays the relay, which is what gives
//! events their positions on Postgres, and the events as the cases compare them.

use std::time::{Duration, Instant};

use chat_proto::chat::conversation_event::Kind;
use chat_proto::chat::{GroupCreated, LogEntry, MemberChanged, Message, Receipt};
use chat_service::log::MAX_PAGE;
use chat_service::store::{ChatStore, LogRange, RelayLease};
use uuid::Uuid;

use super::ids;

/// Takes the relay's lease. On Postgres only one is held at a time, and one just dropped is
/// free again once the server has closed its connection.
pub async fn lease<S: ChatStore>(store: &S) -> S::Lease {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(lease) = store.relay_lease().await.expect("ask for the lease") {
            return lease;
        }
        assert!(
            Instant::now() < deadline,
            "the relay's lease never came free"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The store and the relay's lease: what a test reads after everything has been positioned.
pub struct Log<S: ChatStore> {
    pub store: S,
    pub lease: S::Lease,
}

impl<S: ChatStore> Log<S> {
    pub async fn new(store: &S) -> Self {
        Log {
            store: store.clone(),
            lease: lease(store).await,
        }
    }

    /// Positions everything committed so far, as the relay does; returns the head.
    pub async fn settle(&mut self) -> i64 {
        let mut head = self.store.log_head().await.expect("the log's head");
        loop {
            let next = self.lease.next(head, MAX_PAGE).await.expect("position");
            match next.last() {
                Some(last) => head = last.position,
                None => return head,
            }
        }
    }

    /// One read of the settled log.
    pub async fn read(
        &mut self,
        users: &[Uuid],
        after: i64,
        up_to: Option<i64>,
        limit: u32,
    ) -> Vec<LogEntry> {
        self.settle().await;
        let range = LogRange {
            after,
            up_to,
            limit,
        };
        self.store
            .read_log(users, range)
            .await
            .expect("read the log")
    }

    /// Everything the log holds for `user`.
    pub async fn of(&mut self, user: Uuid) -> Vec<LogEntry> {
        self.read(&[user], 0, None, MAX_PAGE).await
    }
}

pub fn kinds(entries: &[LogEntry]) -> Vec<Kind> {
    entries
        .iter()
        .map(|e| {
            e.event
                .as_ref()
                .and_then(|e| e.kind.clone())
                .expect("an event")
        })
        .collect()
}

/// Each event with the users it reaches (sorted).
pub fn reaching(entries: &[LogEntry]) -> Vec<(Kind, Vec<String>)> {
    let kinds = kinds(entries);
    kinds
        .into_iter()
        .zip(entries)
        .map(|(kind, entry)| {
            let mut recipients = entry.recipient_ids.clone();
            recipients.sort();
            (kind, recipients)
        })
        .collect()
}

pub fn change(user: Uuid, actor: Uuid) -> MemberChanged {
    MemberChanged {
        user_id: user.to_string(),
        actor_id: actor.to_string(),
    }
}

pub fn receipt(message: &Message, user: Uuid) -> Receipt {
    Receipt {
        message_id: message.id.clone(),
        seq: message.seq,
        user_id: user.to_string(),
        sender_id: message.sender_id.clone(),
    }
}

pub fn created(owner: Uuid, members: &[Uuid]) -> Kind {
    Kind::GroupCreated(GroupCreated {
        name: "Team".into(),
        owner_id: owner.to_string(),
        member_ids: ids(members),
    })
}
