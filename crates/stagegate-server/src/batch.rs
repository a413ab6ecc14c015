//! Group commit: concurrent writers (pings, probe results) wait a moment for
//! each other and are written in one transaction, and each is acknowledged
//! only once that transaction is committed. Durability per item, throughput
//! per batch.

use std::future::Future;

use std::sync::Arc;

use tokio::sync::{Notify, mpsc, oneshot};
use tokio::task::JoinHandle;

/// Items written per transaction at most.
const BATCH: usize = 512;

type Done = oneshot::Sender<Result<(), String>>;

enum Msg<T> {
    /// An item to write, and who hears the outcome.
    Item(T, Done),
    /// Write what came before now; answered once it is committed.
    Flush(Done),
}

#[derive(Debug)]
pub struct GroupCommit<T> {
    tx: mpsc::Sender<Msg<T>>,
    /// Cuts a linger short when a flush is queued.
    flushing: Arc<Notify>,
}

impl<T> Clone for GroupCommit<T> {
    fn clone(&self) -> Self {
        GroupCommit {
            tx: self.tx.clone(),
            flushing: self.flushing.clone(),
        }
    }
}

impl<T: Clone + Send + Sync + 'static> GroupCommit<T> {
    /// Starts the writer; `write` stores a batch in one transaction. After
    /// the first item of a batch the writer waits `linger` for more: zero
    /// for callers that wait on the commit (pings), a fraction of a second
    /// where throughput matters more than latency (probe results).
    pub fn spawn<F, Fut>(linger: std::time::Duration, write: F) -> (GroupCommit<T>, JoinHandle<()>)
    where
        F: Fn(Arc<[T]>) -> Fut + Send + 'static,
        Fut: Future<Output = Result<(), String>> + Send,
    {
        let (tx, mut rx) = mpsc::channel::<Msg<T>>(BATCH * 4);
        let flushing = Arc::new(Notify::new());
        let woken = flushing.clone();
        let task = tokio::spawn(async move {
            let mut waiting = Vec::with_capacity(BATCH);
            let mut items = Vec::with_capacity(BATCH);
            let mut flushes = Vec::new();
            while let Some(first) = rx.recv().await {
                match first {
                    Msg::Item(item, done) => {
                        items.push(item);
                        waiting.push(done);
                        if !linger.is_zero() {
                            tokio::select! {
                                _ = tokio::time::sleep(linger) => {}
                                _ = woken.notified() => {}
                            }
                        }
                    }
                    Msg::Flush(done) => flushes.push(done),
                }
                // A flush ends the batch: everything queued before it is in.
                while items.len() < BATCH && flushes.is_empty() {
                    match rx.try_recv() {
                        Ok(Msg::Item(item, done)) => {
                            items.push(item);
                            waiting.push(done);
                        }
                        Ok(Msg::Flush(done)) => flushes.push(done),
                        Err(_) => break,
                    }
                }
                // Shared with the writer, so a batch is kept for writing
                // item by item without copying it first.
                let batch: Arc<[T]> = std::mem::take(&mut items).into();
                let result = if batch.is_empty() {
                    Ok(())
                } else {
                    write(batch.clone()).await
                };
                // What a flush queued behind this batch hears: whether
                // everything before it was written.
                let mut flushed = Ok(());
                match result {
                    Ok(()) => {
                        for done in waiting.drain(..) {
                            let _ = done.send(Ok(()));
                        }
                    }
                    // One bad item must not fail everyone else's: write
                    // each alone, so only what is wrong with it fails.
                    Err(e) if batch.len() > 1 => {
                        tracing::warn!(error = %e, items = batch.len(), "a group commit failed; writing its items one by one");
                        for (item, done) in batch.iter().zip(waiting.drain(..)) {
                            let alone = write(Arc::from([item.clone()])).await;
                            if let Err(e) = &alone {
                                tracing::error!(error = %e, "an item could not be written");
                                flushed = alone.clone();
                            }
                            let _ = done.send(alone);
                        }
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "an item could not be written");
                        for done in waiting.drain(..) {
                            let _ = done.send(Err(e.clone()));
                        }
                        flushed = Err(e);
                    }
                }
                for done in flushes.drain(..) {
                    let _ = done.send(flushed.clone());
                }
            }
        });
        (GroupCommit { tx, flushing }, task)
    }

    /// Queues the item without waiting for its commit (failures are logged
    /// by the writer). For writes nobody is waiting on.
    pub async fn submit(&self, item: T) -> Result<(), String> {
        let (done, _ignored) = oneshot::channel();
        self.tx
            .send(Msg::Item(item, done))
            .await
            .map_err(|_| "the writer has stopped".to_owned())
    }

    /// Resolves once the item is committed.
    pub async fn record(&self, item: T) -> Result<(), String> {
        let (done, wait) = oneshot::channel();
        self.tx
            .send(Msg::Item(item, done))
            .await
            .map_err(|_| "the writer has stopped".to_owned())?;
        wait.await
            .map_err(|_| "the writer has stopped".to_owned())?
    }

    /// Resolves once everything queued before the call is committed (or
    /// its commit failed, which is the error).
    pub async fn flush(&self) -> Result<(), String> {
        let (done, wait) = oneshot::channel();
        self.tx
            .send(Msg::Flush(done))
            .await
            .map_err(|_| "the writer has stopped".to_owned())?;
        self.flushing.notify_one();
        wait.await
            .map_err(|_| "the writer has stopped".to_owned())?
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use super::GroupCommit;

    #[tokio::test]
    async fn one_bad_item_fails_alone() {
        let written = Arc::new(Mutex::new(Vec::<u32>::new()));
        let sink = written.clone();
        // A writer that refuses any batch holding a zero, like a database
        // refusing a whole transaction over one row.
        let (writer, _task) =
            GroupCommit::spawn(Duration::from_millis(50), move |batch: Arc<[u32]>| {
                let sink = sink.clone();
                async move {
                    if batch.contains(&0) {
                        return Err("zero is not allowed".to_owned());
                    }
                    sink.lock().map_err(|e| e.to_string())?.extend(batch.iter());
                    Ok(())
                }
            });
        let outcomes: Vec<_> = [1u32, 0, 2, 3]
            .into_iter()
            .map(|i| {
                let w = writer.clone();
                tokio::spawn(async move { (i, w.record(i).await) })
            })
            .collect();
        for o in outcomes {
            let (i, result) = o.await.expect("join");
            assert_eq!(result.is_ok(), i != 0, "item {i}: {result:?}");
        }
        let mut all = written.lock().expect("lock").clone();
        all.sort_unstable();
        assert_eq!(all, [1, 2, 3]);
    }

    #[tokio::test]
    async fn flush_writes_what_was_queued_without_waiting_out_the_linger() {
        let written = Arc::new(Mutex::new(Vec::new()));
        let sink = written.clone();
        let (writer, _task) =
            GroupCommit::spawn(Duration::from_secs(3600), move |batch: Arc<[u32]>| {
                let sink = sink.clone();
                async move {
                    sink.lock().map_err(|e| e.to_string())?.push(batch.to_vec());
                    Ok(())
                }
            });
        // The first item starts an hour-long linger; a flush queued behind
        // the others must still see all three written.
        let first = tokio::spawn({
            let writer = writer.clone();
            async move { writer.submit(1).await }
        });
        first.await.expect("join").expect("submit");
        writer.submit(2).await.expect("submit");
        writer.submit(3).await.expect("submit");
        tokio::time::timeout(Duration::from_secs(10), writer.flush())
            .await
            .expect("the flush cut the linger short")
            .expect("flush");
        let all: Vec<u32> = written.lock().expect("lock").concat();
        assert_eq!(all, [1, 2, 3]);
    }
}
