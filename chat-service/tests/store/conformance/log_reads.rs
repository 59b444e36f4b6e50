//! Reading the event log: pages by position, bounds, recipients narrowed to the users asked
//! about, resuming by time, and a relay taking over from where the last one published.

use std::time::Duration;

use chat_proto::chat::LogEntry;
use chat_proto::chat::conversation_event::Kind;
use chat_service::log::MAX_PAGE;
use chat_service::store::{ChatStore, LogRange, ReceiptKind, RelayLease};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::logged::{Log, lease, reaching};
use super::{ALICE, BOB, CAROL, DAVE, group, id, ids, send};

fn positions(entries: &[LogEntry]) -> Vec<i64> {
    entries.iter().map(|e| e.position).collect()
}

/// Two groups with messages, receipts and a join: what Alice's log holds of it.
async fn a_busy_log<S: ChatStore>(store: &S) {
    let team = group(store, ALICE, &[BOB], false).await;
    let other = group(store, BOB, &[ALICE, CAROL], true).await;
    group(store, DAVE, &[CAROL], false).await;
    for n in 0..12 {
        let (sender, conversation) = if n % 2 == 0 {
            (ALICE, team)
        } else {
            (BOB, other)
        };
        let sent = send(store, sender, conversation, &format!("{n}")).await;
        if n % 3 == 0 {
            let reader = if sender == ALICE { BOB } else { ALICE };
            let read = store.mark(reader, id(&sent.id), ReceiptKind::Read).await;
            assert!(read.expect("read").advanced);
        }
        if n == 5 {
            store
                .join_group(ALICE, team, CAROL)
                .await
                .expect("add carol");
        }
    }
}

/// `user`'s log after `after`, read `limit` events at a time.
async fn paged<S: ChatStore>(
    log: &mut Log<S>,
    user: Uuid,
    mut after: i64,
    limit: u32,
) -> Vec<LogEntry> {
    let mut entries = Vec::new();
    loop {
        let page = log.read(&[user], after, None, limit).await;
        assert!(page.len() <= limit as usize, "{page:?}");
        let Some(last) = page.last() else {
            return entries;
        };
        after = last.position;
        entries.extend(page);
    }
}

pub async fn log_pages_return_every_event_once_in_order<S: ChatStore>(store: S) {
    let mut log = Log::new(&store).await;
    a_busy_log(&store).await;
    let whole = log.of(ALICE).await;
    // 2 created, 12 messages, 2 receipts on Alice's messages, Carol's join.
    assert_eq!(whole.len(), 17, "{:#?}", reaching(&whole));
    assert!(whole.windows(2).all(|w| w[0].position < w[1].position));
    for limit in [1, 3, 7] {
        assert_eq!(
            paged(&mut log, ALICE, 0, limit).await,
            whole,
            "pages of {limit}"
        );
    }
    let messages: Vec<String> = whole
        .iter()
        .filter_map(|e| match e.event.as_ref().and_then(|e| e.kind.as_ref()) {
            Some(Kind::Message(m)) => Some(m.body.clone()),
            _ => None,
        })
        .collect();
    let sent: Vec<String> = (0..12).map(|n| n.to_string()).collect();
    assert_eq!(messages, sent, "every message once, in the order sent");
}

pub async fn log_reads_stop_at_their_upper_bound<S: ChatStore>(store: S) {
    let mut log = Log::new(&store).await;
    a_busy_log(&store).await;
    let whole = log.of(ALICE).await;
    let bound = whole[9].position;
    let upto = log.read(&[ALICE], 0, Some(bound), MAX_PAGE).await;
    assert_eq!(upto, whole[..=9]);
    let between = log
        .read(&[ALICE], whole[3].position, Some(bound), MAX_PAGE)
        .await;
    assert_eq!(between, whole[4..=9]);
    let limited = log.read(&[ALICE], whole[3].position, Some(bound), 2).await;
    assert_eq!(limited, whole[4..6]);
    let head = log.settle().await;
    assert_eq!(log.read(&[ALICE], head, None, MAX_PAGE).await, []);
    assert_eq!(
        log.read(&[ALICE], 0, Some(whole[0].position - 1), 10).await,
        []
    );
}

/// Many users catching up at once (a reconnect storm; a store may answer them together): each
/// gets exactly what it would reading alone — its own events, within its own bounds.
pub async fn concurrent_log_reads_each_get_their_own_range<S: ChatStore>(store: S) {
    let mut log = Log::new(&store).await;
    a_busy_log(&store).await;
    let head = log.settle().await;
    let mut asks = Vec::new();
    for user in [ALICE, BOB, CAROL, DAVE] {
        for (after, up_to, limit) in [
            (0, None, MAX_PAGE),
            (head / 3, None, 4),
            (head / 4, Some(head / 2 + 1), MAX_PAGE),
            (head, None, 10),
            (0, Some(0), 10),
        ] {
            let range = LogRange {
                after,
                up_to,
                limit,
            };
            asks.push((user, range));
        }
    }
    let mut alone = Vec::new();
    for (user, range) in &asks {
        alone.push(store.read_log(&[*user], *range).await.expect("read alone"));
    }
    assert!(alone.iter().any(|entries| entries.len() > 3), "{alone:?}");
    let together = futures_util::future::join_all(
        asks.iter()
            .map(|(user, range)| store.read_log(std::slice::from_ref(user), *range)),
    )
    .await;
    for ((ask, alone), together) in asks.iter().zip(&alone).zip(together) {
        assert_eq!(&together.expect("read together"), alone, "{ask:?}");
    }
}

pub async fn log_reads_narrow_recipients_to_the_users_asked_about<S: ChatStore>(store: S) {
    let mut log = Log::new(&store).await;
    let team = group(&store, ALICE, &[BOB, CAROL], false).await;
    let hello = send(&store, ALICE, team, "hello").await;
    store
        .mark(BOB, id(&hello.id), ReceiptKind::Delivered)
        .await
        .expect("got");
    let dave = group(&store, DAVE, &[], false).await;
    send(&store, DAVE, dave, "to myself").await;

    let of = |entries: &[LogEntry]| -> Vec<Vec<String>> {
        reaching(entries)
            .into_iter()
            .map(|(_, users)| users)
            .collect()
    };
    let bob_and_carol = log.read(&[BOB, CAROL], 0, None, MAX_PAGE).await;
    assert_eq!(of(&bob_and_carol), vec![ids(&[BOB, CAROL]); 2]);
    // An event reaching several of the users asked about comes once.
    let everyone = log
        .read(&[ALICE, BOB, CAROL, DAVE], 0, None, MAX_PAGE)
        .await;
    assert_eq!(
        of(&everyone),
        vec![
            ids(&[ALICE, BOB, CAROL]),
            ids(&[ALICE, BOB, CAROL]),
            ids(&[ALICE]),
            ids(&[DAVE]),
            ids(&[DAVE]),
        ]
    );
    // A limit counts events, not recipients.
    let two = log.read(&[ALICE, BOB, CAROL, DAVE], 0, None, 2).await;
    assert_eq!(two, everyone[..2]);
    let stranger = Uuid::from_u128(0xe5e);
    assert_eq!(log.read(&[stranger], 0, None, MAX_PAGE).await, []);
    assert_eq!(log.read(&[], 0, None, MAX_PAGE).await, []);
}

/// Waits long enough for the clocks to move past the time a test takes.
async fn pause() {
    tokio::time::sleep(Duration::from_millis(20)).await;
}

pub async fn the_position_before_a_time_is_the_last_one_logged_before_it<S: ChatStore>(store: S) {
    let mut log = Log::new(&store).await;
    let position_before = |at: DateTime<Utc>| {
        let store = store.clone();
        async move { store.log_position_before(at).await.expect("look up") }
    };
    assert_eq!(position_before(Utc::now()).await, 0, "an empty log");
    let team = group(&store, ALICE, &[BOB], false).await;
    send(&store, ALICE, team, "one").await;
    let first = log.settle().await;
    pause().await;
    let between = Utc::now();
    pause().await;
    send(&store, BOB, team, "two").await;
    send(&store, BOB, team, "three").await;
    let head = log.settle().await;
    assert_eq!(first, 2);
    assert_eq!(head, 4);
    assert_eq!(position_before(between).await, first);
    assert_eq!(position_before(DateTime::<Utc>::UNIX_EPOCH).await, 0);
    pause().await;
    assert_eq!(position_before(Utc::now()).await, head);
    // Resuming from there is what catch-up by time does: nothing before, nothing missed.
    let resumed = log.read(&[ALICE], first, None, MAX_PAGE).await;
    assert_eq!(resumed.len(), 2);
}

pub async fn a_new_relay_lease_resumes_from_what_was_published<S: ChatStore>(store: S) {
    let mut log = Log::new(&store).await;
    let team = group(&store, ALICE, &[BOB], false).await;
    for n in 0..5 {
        send(&store, ALICE, team, &format!("{n}")).await;
    }
    let head = log.settle().await;
    assert_eq!(log.lease.published().await.expect("published"), 0);
    let all = log.lease.next(0, MAX_PAGE).await.expect("the log");
    assert_eq!(positions(&all), (1..=head).collect::<Vec<_>>());
    // The relay sees every recipient; readers see only those they ask about.
    assert_eq!(all[0].recipient_ids.len(), 2);
    log.lease
        .set_published(all[2].position)
        .await
        .expect("publish");
    // Published never goes back.
    log.lease
        .set_published(all[0].position)
        .await
        .expect("publish");
    drop(log);

    let mut taken_over = lease(&store).await;
    let published = taken_over.published().await.expect("published");
    assert_eq!(published, all[2].position);
    let rest = taken_over
        .next(published, MAX_PAGE)
        .await
        .expect("the rest");
    assert_eq!(rest, all[3..]);
    assert_eq!(
        taken_over.next(head, MAX_PAGE).await.expect("nothing new"),
        []
    );
}
