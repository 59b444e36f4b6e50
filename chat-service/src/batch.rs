//! Group commit: concurrent sends are gathered into batches, and one transaction stores each
//! batch and commits once.
//!
//! A batch is whatever has queued up when a slot frees: with no load every send goes alone and
//! waits for nothing; under load, sends gather while the batches before them commit, so the
//! batches grow with the load and the commits per second stay bounded by [`Batcher`]'s depth.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Semaphore, mpsc, oneshot};
use tokio::time::Instant;

use crate::error::ChatError;
use crate::store::StoreResult;

/// Batches in flight at once on a database of many connections: two keep the database busy
/// while the next batch is gathered and the last one's answers go out.
pub const DEPTH: usize = 2;

/// How a queue gathers its batches.
#[derive(Debug, Clone, Copy)]
pub struct Gathering {
    /// The queue's name in the `chat_batch_size` metric.
    pub queue: &'static str,
    /// The most items one batch holds.
    pub max: usize,
    /// The shortest time between the starts of two batches: items that arrive sooner after a
    /// batch began gather into the next one until then. An item arriving after a quiet spell
    /// this long goes at once, so spacing costs nothing when idle.
    pub spacing: Duration,
    /// Batches handled at once; the next batch is gathered only when one ends, so what arrives
    /// meanwhile joins it.
    pub in_flight: usize,
    /// Whether a batch starts while another is in flight only once it is full: below saturation
    /// one batch at a time (each gathering what arrives while the one before commits), and at
    /// saturation `in_flight` of them.
    pub overlap_when_full: bool,
}

/// Sends to Postgres. Spaced 4 ms, and a second batch in flight only when it is full: at
/// moderate rates a batch then holds what arrives while the one before commits, instead of two
/// small batches each paying the statements and a WAL flush. Two batches in flight spaced 2 ms
/// (what this was) gave at 1,000 sends a second one commit per message; one at a time spaced
/// 4 ms gave a fifth less CPU for the servers (Postgres 10.2 → 6.8 s over 20 s), the same p99,
/// p50 +0.8 ms, and a lower p99 at 5,000 a second; the overlap of full batches keeps the
/// saturated rate of two in flight (BENCHMARKS.md).
pub const SENDS: Gathering = Gathering {
    queue: "sends",
    max: 256,
    spacing: Duration::from_millis(4),
    in_flight: DEPTH,
    overlap_when_full: true,
};

/// Sends to a database with one writer (SQLite): a batch formed while another commits could
/// only wait for the writer, so one at a time — everything that arrives during a commit goes
/// into the next, and a batch's commit (its WAL pages, its sync) is shared by more sends.
/// Spaced 2 ms: a commit here costs no round trips to another process, and 1 ms gathered
/// almost nothing.
pub const ONE_WRITER_SENDS: Gathering = Gathering {
    spacing: Duration::from_millis(2),
    in_flight: 1,
    ..SENDS
};

/// Questions for the log's head: one read answers any number of them.
pub const HEADS: Gathering = Gathering {
    queue: "log_heads",
    max: 4096,
    spacing: Duration::ZERO,
    in_flight: DEPTH,
    overlap_when_full: false,
};

/// Users' log reads (catch-ups): up to a page each (~1,000 events), so a batch stays within a
/// few tens of MiB however many wait.
pub const READS: Gathering = Gathering {
    queue: "log_reads",
    max: 32,
    spacing: Duration::ZERO,
    in_flight: DEPTH,
    overlap_when_full: false,
};

/// An item, who waits for its result, and since when.
type Job<T, R> = (T, oneshot::Sender<R>, Instant);

/// A queue in front of a function that handles many items at once.
pub struct Batcher<T, R> {
    queue: mpsc::UnboundedSender<Job<T, R>>,
}

impl<T, R> Clone for Batcher<T, R> {
    fn clone(&self) -> Self {
        Self {
            queue: self.queue.clone(),
        }
    }
}

impl<T: Send + 'static, R: Send + 'static> Batcher<T, R> {
    /// Starts the task that gathers items as `gathering` says and runs `run` on each batch,
    /// with the time its oldest item was queued. `run` answers with one result per item, in the
    /// batch's order. The task ends when the last handle is dropped.
    pub fn start<F, Fut>(gathering: Gathering, run: F) -> Self
    where
        F: Fn(Vec<T>, Instant) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Vec<R>> + Send + 'static,
    {
        let (queue, jobs) = mpsc::unbounded_channel();
        tokio::spawn(gather(jobs, gathering, Arc::new(run)));
        Self { queue }
    }

    /// Queues `item` and waits for its result; `None` if the batch handling it was lost (its
    /// task panicked, or the runtime is shutting down).
    pub async fn submit(&self, item: T) -> Option<R> {
        let (answer, result) = oneshot::channel();
        self.queue.send((item, answer, Instant::now())).ok()?;
        result.await.ok()
    }
}

impl<T: Send + 'static, R: Send + 'static> Batcher<T, StoreResult<R>> {
    /// Queues `item` for storing and waits for the outcome.
    pub async fn store(&self, item: T) -> StoreResult<R> {
        self.submit(item).await.unwrap_or_else(|| {
            Err(ChatError::Internal(anyhow::anyhow!(
                "the write was lost with its batch"
            )))
        })
    }
}

async fn gather<T, R, F, Fut>(
    mut jobs: mpsc::UnboundedReceiver<Job<T, R>>,
    gathering: Gathering,
    run: Arc<F>,
) where
    T: Send + 'static,
    R: Send + 'static,
    F: Fn(Vec<T>, Instant) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Vec<R>> + Send + 'static,
{
    let in_flight = gathering.in_flight.max(1);
    let slots = Arc::new(Semaphore::new(in_flight));
    // Told when a batch ends (a permit is kept if nobody waits, so none is missed).
    let ended = Arc::new(tokio::sync::Notify::new());
    let mut last_start: Option<Instant> = None;
    loop {
        // A slot first, then the items: what arrives while every slot is busy joins the next
        // batch instead of waiting behind a batch of one.
        let Ok(slot) = slots.clone().acquire_owned().await else {
            return;
        };
        let Some(first) = jobs.recv().await else {
            return;
        };
        let mut batch = vec![first];
        while batch.len() < gathering.max {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        if let Some(open_until) = last_start.map(|start| start + gathering.spacing) {
            while batch.len() < gathering.max {
                match tokio::time::timeout_at(open_until, jobs.recv()).await {
                    Ok(Some(job)) => batch.push(job),
                    _ => break,
                }
            }
        }
        // This batch holds a slot; any other slot taken is a batch in flight.
        let others_in_flight = || slots.available_permits() + 1 < in_flight;
        if gathering.overlap_when_full {
            while batch.len() < gathering.max && others_in_flight() {
                tokio::select! {
                    job = jobs.recv() => match job {
                        Some(job) => batch.push(job),
                        None => break,
                    },
                    () = ended.notified() => {}
                }
            }
        }
        last_start = Some(Instant::now());
        metrics::histogram!("chat_batch_size", "queue" => gathering.queue)
            .record(batch.len() as f64);
        let (run, ended) = (run.clone(), ended.clone());
        tokio::spawn(async move {
            let since = batch[0].2;
            let (items, answers): (Vec<T>, Vec<oneshot::Sender<R>>) = batch
                .into_iter()
                .map(|(item, answer, _)| (item, answer))
                .unzip();
            let results = run(items, since).await;
            debug_assert_eq!(results.len(), answers.len());
            for (answer, result) in answers.into_iter().zip(results) {
                // A caller that went away still had its item handled; nobody to tell.
                let _ = answer.send(result);
            }
            drop(slot);
            ended.notify_one();
        });
    }
}

/// Stores `items` with `store` as one batch; if the batch fails as a whole for any reason but
/// the database being unreachable, stores each item alone, so that one bad item fails alone.
pub async fn whole_or_alone<'a, T, R, F, Fut>(items: &'a [T], store: F) -> Vec<StoreResult<R>>
where
    F: Fn(&'a [T]) -> Fut,
    Fut: Future<Output = StoreResult<Vec<StoreResult<R>>>> + 'a,
{
    let error = match store(items).await {
        Ok(results) => return results,
        Err(error) => error,
    };
    if items.len() == 1 || matches!(error, ChatError::Unavailable(_)) {
        return items.iter().map(|_| Err(error.shared())).collect();
    }
    tracing::warn!(error = %format!("{error:#}"), size = items.len(),
        "a batch failed; storing its items one by one");
    let mut results: Vec<StoreResult<R>> = Vec::with_capacity(items.len());
    for item in items.chunks(1) {
        // Once the database is found unreachable, the items left get that answer now rather
        // than each waiting out its own attempt.
        if let Some(Err(down @ ChatError::Unavailable(_))) = results.last() {
            let down = down.shared();
            results.push(Err(down));
            continue;
        }
        results.push(match store(item).await {
            Ok(mut one) => one.pop().unwrap_or_else(|| {
                Err(ChatError::Internal(anyhow::anyhow!(
                    "a batch of one answered nothing"
                )))
            }),
            Err(error) => Err(error),
        });
    }
    results
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn answers_each_item_in_order_and_gathers_under_load() {
        let sizes = Arc::new(Mutex::new(Vec::new()));
        let seen = sizes.clone();
        let batcher = Batcher::start(SENDS, move |items: Vec<u32>, _since| {
            seen.lock().unwrap().push(items.len());
            async move {
                tokio::time::sleep(Duration::from_millis(20)).await;
                items.into_iter().map(|item| item * 2).collect()
            }
        });
        let calls: Vec<_> = (0..100)
            .map(|item| {
                let batcher = batcher.clone();
                tokio::spawn(async move { (item, batcher.submit(item).await) })
            })
            .collect();
        for call in calls {
            let (item, result) = call.await.unwrap();
            assert_eq!(result, Some(item * 2));
        }
        let sizes = sizes.lock().unwrap();
        assert_eq!(sizes.iter().sum::<usize>(), 100);
        assert!(
            sizes.len() < 100,
            "100 concurrent items went in {} batches",
            sizes.len()
        );
    }

    #[tokio::test]
    async fn spaced_batches_gather_under_load_and_an_item_after_a_quiet_spell_goes_at_once() {
        let spacing = Duration::from_millis(100);
        let starts = Arc::new(Mutex::new(Vec::new()));
        let seen = starts.clone();
        let gathering = Gathering { spacing, ..SENDS };
        let batcher = Batcher::start(gathering, move |items: Vec<u32>, _since| {
            seen.lock().unwrap().push((Instant::now(), items.len()));
            async move { items }
        });
        let began = Instant::now();
        assert_eq!(batcher.submit(1).await, Some(1));
        // Soon after a batch began: these wait for the spacing, together.
        let burst: Vec<_> = (2..6)
            .map(|item| {
                let batcher = batcher.clone();
                tokio::spawn(async move { batcher.submit(item).await })
            })
            .collect();
        for (call, item) in burst.into_iter().zip(2..6) {
            assert_eq!(call.await.unwrap(), Some(item));
        }
        tokio::time::sleep(spacing * 2).await;
        let alone = Instant::now();
        assert_eq!(batcher.submit(9).await, Some(9));
        let waited = alone.elapsed();
        let starts = starts.lock().unwrap();
        let sizes: Vec<usize> = starts.iter().map(|(_, size)| *size).collect();
        assert_eq!(sizes, [1, 4, 1], "batches of {sizes:?}");
        assert!(
            starts[1].0 >= began + spacing,
            "the burst did not wait its turn"
        );
        assert!(
            waited < spacing / 2,
            "an item after a quiet spell waited {waited:?}"
        );
    }

    #[tokio::test]
    async fn a_second_batch_goes_alongside_only_when_full() {
        let gathering = Gathering {
            queue: "test",
            max: 4,
            spacing: Duration::ZERO,
            in_flight: 2,
            overlap_when_full: true,
        };
        let busy = Duration::from_millis(200);
        // (start, end, size) of each batch.
        let runs = Arc::new(Mutex::new(Vec::new()));
        let seen = runs.clone();
        let batcher = Batcher::start(gathering, move |items: Vec<u32>, _since| {
            let seen = seen.clone();
            async move {
                let start = Instant::now();
                tokio::time::sleep(busy).await;
                seen.lock()
                    .unwrap()
                    .push((start, Instant::now(), items.len()));
                items
            }
        });
        let submit_all = |items: std::ops::Range<u32>| {
            items
                .map(|item| {
                    let batcher = batcher.clone();
                    tokio::spawn(async move { batcher.submit(item).await })
                })
                .collect::<Vec<_>>()
        };
        // One in flight; two more arrive: they wait for it, then go together.
        let first = submit_all(0..1);
        tokio::time::sleep(busy / 4).await;
        let small = submit_all(1..3);
        // A full batch arriving while the small one is in flight goes alongside it.
        tokio::time::sleep(busy + busy / 2).await;
        let full = submit_all(3..7);
        for call in first.into_iter().chain(small).chain(full) {
            assert!(call.await.unwrap().is_some());
        }
        let mut runs = runs.lock().unwrap().clone();
        runs.sort_by_key(|(start, _, _)| *start);
        let sizes: Vec<usize> = runs.iter().map(|(_, _, size)| *size).collect();
        assert_eq!(sizes, [1, 2, 4], "batches of {sizes:?}");
        assert!(
            runs[1].0 >= runs[0].1,
            "a batch that was not full overlapped another"
        );
        assert!(
            runs[2].0 < runs[1].1,
            "a full batch waited for the one in flight"
        );
    }
}
