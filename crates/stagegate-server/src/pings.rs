//! Group commit for heartbeat pings: concurrent pings wait a moment for each
//! other and are written in one transaction, and each is acknowledged only
//! once that transaction is committed. Durability per ping, throughput per
//! batch.

use std::sync::Arc;

use stagegate_store::{Ping, Store};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

/// Pings written per transaction at most.
const BATCH: usize = 512;

struct Pending {
    ping: Ping,
    done: oneshot::Sender<Result<(), String>>,
}

#[derive(Debug, Clone)]
pub struct PingWriter {
    tx: mpsc::Sender<Pending>,
}

impl PingWriter {
    pub fn spawn(store: Arc<dyn Store>) -> (PingWriter, JoinHandle<()>) {
        let (tx, mut rx) = mpsc::channel::<Pending>(BATCH * 4);
        let task = tokio::spawn(async move {
            let mut batch = Vec::with_capacity(BATCH);
            while let Some(first) = rx.recv().await {
                batch.push(first);
                while batch.len() < BATCH {
                    match rx.try_recv() {
                        Ok(p) => batch.push(p),
                        Err(_) => break,
                    }
                }
                let pings: Vec<Ping> = batch.iter().map(|p| p.ping.clone()).collect();
                let result = store.record_pings(&pings).await.map_err(|e| e.to_string());
                for p in batch.drain(..) {
                    let _ = p.done.send(result.clone());
                }
            }
        });
        (PingWriter { tx }, task)
    }

    /// Resolves once the ping is committed.
    pub async fn record(&self, ping: Ping) -> Result<(), String> {
        let (done, wait) = oneshot::channel();
        self.tx
            .send(Pending { ping, done })
            .await
            .map_err(|_| "the ping writer has stopped".to_owned())?;
        wait.await
            .map_err(|_| "the ping writer has stopped".to_owned())?
    }
}
