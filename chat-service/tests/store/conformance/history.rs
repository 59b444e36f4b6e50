//! History: pages of at most 100 messages in ascending seq, bounded by seq or by time.

use chat_proto::chat::Message;
use chat_service::error::ChatError;
use chat_service::store::{ChatStore, MessageRange};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{ALICE, BOB, DAVE, group, refused, send, tick};

async fn page<S: ChatStore>(
    store: &S,
    conversation: Uuid,
    range: MessageRange,
) -> (Vec<i64>, bool) {
    let page = store
        .list_messages(ALICE, conversation, range)
        .await
        .expect("list messages");
    (page.messages.iter().map(|m| m.seq).collect(), page.has_more)
}

fn seqs(range: std::ops::RangeInclusive<i64>) -> Vec<i64> {
    range.collect()
}

pub async fn history_pages_by_seq<S: ChatStore>(store: S) {
    let team = group(&store, ALICE, &[BOB], false).await;
    for n in 0..120 {
        send(&store, if n % 3 == 0 { BOB } else { ALICE }, team, "m").await;
    }
    let range = |before_seq, after_seq, limit| MessageRange {
        before_seq,
        after_seq,
        limit,
        ..MessageRange::default()
    };
    // Without a bound, and with `before_seq`, the newest page nearest the bound comes back.
    assert_eq!(
        page(&store, team, range(None, None, 50)).await,
        (seqs(71..=120), true)
    );
    assert_eq!(
        page(&store, team, range(Some(71), None, 50)).await,
        (seqs(21..=70), true)
    );
    assert_eq!(
        page(&store, team, range(Some(21), None, 50)).await,
        (seqs(1..=20), false)
    );
    // With `after_seq`, the oldest page after it.
    assert_eq!(
        page(&store, team, range(None, Some(100), 10)).await,
        (seqs(101..=110), true)
    );
    assert_eq!(
        page(&store, team, range(None, Some(110), 10)).await,
        (seqs(111..=120), false)
    );
    assert_eq!(
        page(&store, team, range(Some(26), Some(20), 50)).await,
        (seqs(21..=25), false)
    );
    assert_eq!(
        page(&store, team, range(None, Some(120), 50)).await,
        (vec![], false)
    );
    // At most 100 a page.
    assert_eq!(
        page(&store, team, range(None, None, 500)).await,
        (seqs(21..=120), true)
    );
    assert_eq!(
        page(&store, team, range(None, Some(0), 500)).await,
        (seqs(1..=100), true)
    );
}

pub async fn history_pages_by_time<S: ChatStore>(store: S) {
    let team = group(&store, ALICE, &[], false).await;
    let mut sent: Vec<Message> = Vec::new();
    for burst in 0..4 {
        for n in 0..3 {
            sent.push(send(&store, ALICE, team, &format!("{burst}.{n}")).await);
        }
        tick().await;
    }
    let at = |ms: i64| DateTime::<Utc>::from_timestamp_millis(ms).expect("a time");
    let range = |before: Option<i64>, after: Option<i64>, limit| MessageRange {
        before: before.map(at),
        after: after.map(at),
        limit,
        ..MessageRange::default()
    };
    // Bounds are exclusive, in the whole milliseconds clients see.
    let expect = |keep: &dyn Fn(i64) -> bool| -> Vec<i64> {
        sent.iter()
            .filter(|m| keep(m.created_at_ms))
            .map(|m| m.seq)
            .collect()
    };
    let (early, late) = (sent[4].created_at_ms, sent[9].created_at_ms);
    let after = expect(&|ms| ms > early);
    assert!(!after.is_empty() && after.len() < sent.len(), "{sent:?}");
    assert_eq!(
        page(&store, team, range(None, Some(early), 100)).await,
        (after.clone(), false)
    );
    assert_eq!(
        page(&store, team, range(None, Some(early), 2)).await,
        (after[..2].to_vec(), true)
    );
    let before = expect(&|ms| ms < late);
    assert_eq!(
        page(&store, team, range(Some(late), None, 100)).await,
        (before.clone(), false)
    );
    let newest_two = before[before.len() - 2..].to_vec();
    assert_eq!(
        page(&store, team, range(Some(late), None, 2)).await,
        (newest_two, true)
    );
    let between = expect(&|ms| ms > early && ms < late);
    assert_eq!(
        page(&store, team, range(Some(late), Some(early), 100)).await,
        (between, false)
    );
    let last = sent[sent.len() - 1].created_at_ms;
    assert_eq!(
        page(&store, team, range(None, Some(last), 100)).await,
        (vec![], false)
    );
}

pub async fn history_is_for_members_and_public_groups<S: ChatStore>(store: S) {
    let private = group(&store, ALICE, &[BOB], false).await;
    let public = group(&store, ALICE, &[], true).await;
    send(&store, ALICE, private, "secret").await;
    send(&store, ALICE, public, "hello world").await;
    let read = |user, conversation| {
        store.list_messages(
            user,
            conversation,
            MessageRange {
                limit: 50,
                ..MessageRange::default()
            },
        )
    };
    let error = refused(read(DAVE, private).await);
    assert!(matches!(error, ChatError::NotAMember), "{error:?}");
    let page = read(DAVE, public)
        .await
        .expect("anyone reads a public group");
    assert_eq!(page.messages.len(), 1);
    assert_eq!(page.messages[0].body, "hello world");
    assert_eq!(
        read(BOB, private)
            .await
            .expect("a member reads")
            .messages
            .len(),
        1
    );
    store
        .leave_group(BOB, private, BOB)
        .await
        .expect("bob leaves");
    let error = refused(read(BOB, private).await);
    assert!(matches!(error, ChatError::NotAMember), "{error:?}");
    let error = refused(read(ALICE, Uuid::new_v4()).await);
    assert!(
        matches!(error, ChatError::ConversationNotFound),
        "{error:?}"
    );
}
