//! Group commit: concurrent writers (pings, probe results) wait a moment for
//! each other and are written in one transaction, and each is acknowledged
//! only once that transaction is committed. Durability per item, throughput
//! per batch.

use std::future::Future;

use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

/// Items written per transaction at most.
const BATCH: usize = 512;

type Pending<T> = (T, oneshot::Sender<Result<(), String>>);

#[derive(Debug)]
pub struct GroupCommit<T> {
    tx: mpsc::Sender<Pending<T>>,
}

impl<T> Clone for GroupCommit<T> {
    fn clone(&self) -> Self {
        GroupCommit {
            tx: self.tx.clone(),
        }
    }
}

impl<T: Send + 'static> GroupCommit<T> {
    /// Starts the writer; `write` stores a batch in one transaction. After
    /// the first item of a batch the writer waits `linger` for more: zero
    /// for callers that wait on the commit (pings), a fraction of a second
    /// where throughput matters more than latency (probe results).
    pub fn spawn<F, Fut>(linger: std::time::Duration, write: F) -> (GroupCommit<T>, JoinHandle<()>)
    where
        F: Fn(Vec<T>) -> Fut + Send + 'static,
        Fut: Future<Output = Result<(), String>> + Send,
    {
        let (tx, mut rx) = mpsc::channel::<Pending<T>>(BATCH * 4);
        let task = tokio::spawn(async move {
            let mut waiting = Vec::with_capacity(BATCH);
            let mut items = Vec::with_capacity(BATCH);
            while let Some((item, done)) = rx.recv().await {
                items.push(item);
                waiting.push(done);
                if !linger.is_zero() {
                    tokio::time::sleep(linger).await;
                }
                while items.len() < BATCH {
                    match rx.try_recv() {
                        Ok((item, done)) => {
                            items.push(item);
                            waiting.push(done);
                        }
                        Err(_) => break,
                    }
                }
                let result = write(std::mem::take(&mut items)).await;
                if let Err(e) = &result {
                    tracing::error!(error = %e, items = waiting.len(), "a group commit failed");
                }
                for done in waiting.drain(..) {
                    let _ = done.send(result.clone());
                }
            }
        });
        (GroupCommit { tx }, task)
    }

    /// Queues the item without waiting for its commit (failures are logged
    /// by the writer). For writes nobody is waiting on.
    pub async fn submit(&self, item: T) -> Result<(), String> {
        let (done, _ignored) = oneshot::channel();
        self.tx
            .send((item, done))
            .await
            .map_err(|_| "the writer has stopped".to_owned())
    }

    /// Resolves once the item is committed.
    pub async fn record(&self, item: T) -> Result<(), String> {
        let (done, wait) = oneshot::channel();
        self.tx
            .send((item, done))
            .await
            .map_err(|_| "the writer has stopped".to_owned())?;
        wait.await
            .map_err(|_| "the writer has stopped".to_owned())?
    }
}
