//! Which client connections are waiting for a request, and since when: when
//! every connection is taken, the ones that have waited past a grace are
//! cut, so clients that open connections and send nothing (from as many
//! addresses as they like) cannot keep everyone else out until their
//! header timeout. A request costs two atomic stores here; the lock is
//! taken once per connection and when cutting.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::task::AbortHandle;

/// How long a connection may wait for a request before it can be cut when
/// the server is full: a real client sends its headers long before.
pub const GRACE: Duration = Duration::from_secs(2);

/// `since` of a connection whose request is being answered.
const BUSY: u64 = u64::MAX;

type Open = HashMap<u64, (Arc<AtomicU64>, Option<AbortHandle>)>;

#[derive(Clone, Debug)]
pub struct Connections {
    epoch: Instant,
    next: Arc<AtomicU64>,
    open: Arc<Mutex<Open>>,
}

impl Default for Connections {
    fn default() -> Self {
        Connections {
            epoch: Instant::now(),
            next: Arc::default(),
            open: Arc::default(),
        }
    }
}

/// One open connection, as its requests see it.
#[derive(Debug)]
pub struct Tracked {
    since: Arc<AtomicU64>,
    epoch: Instant,
}

/// Forgets its connection when dropped (the connection's task ended or was
/// cut).
#[derive(Debug)]
pub struct Forget {
    id: u64,
    all: Connections,
}

impl Connections {
    fn now(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(BUSY - 1)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Open> {
        self.open.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A new connection, waiting for its first request; `started` gives
    /// the task that serves it.
    pub fn open(&self) -> (Tracked, Forget) {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let since = Arc::new(AtomicU64::new(self.now()));
        self.lock().insert(id, (since.clone(), None));
        (
            Tracked {
                since,
                epoch: self.epoch,
            },
            Forget {
                id,
                all: self.clone(),
            },
        )
    }

    /// The task serving connection `id`, for cutting it.
    pub fn started(&self, id: u64, task: AbortHandle) {
        if let Some(entry) = self.lock().get_mut(&id) {
            entry.1 = Some(task);
        }
    }

    /// Cuts every connection that has waited for a request longer than
    /// `grace`; returns how many.
    pub fn cut_waiting(&self, grace: Duration) -> usize {
        let now = self.now();
        let grace = u64::try_from(grace.as_millis()).unwrap_or(BUSY);
        let open = self.lock();
        let mut cut = 0;
        for (since, task) in open.values() {
            let since = since.load(Ordering::Relaxed);
            if since != BUSY
                && now.saturating_sub(since) >= grace
                && let Some(task) = task
            {
                task.abort();
                cut += 1;
            }
        }
        cut
    }
}

impl Tracked {
    /// A request arrived: not to be cut while it is answered.
    pub fn busy(&self) {
        self.since.store(BUSY, Ordering::Relaxed);
    }

    /// Answered: waiting for the next request from now on.
    pub fn waiting(&self) {
        let now = u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(BUSY - 1);
        self.since.store(now, Ordering::Relaxed);
    }
}

impl Forget {
    pub fn id(&self) -> u64 {
        self.id
    }
}

impl Drop for Forget {
    fn drop(&mut self) {
        self.all.lock().remove(&self.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn only_connections_waiting_past_the_grace_are_cut() {
        let all = Connections::default();
        let serve = |all: &Connections| {
            let (tracked, forget) = all.open();
            let id = forget.id();
            let task = tokio::spawn(async move {
                let _forget = forget;
                std::future::pending::<()>().await;
            });
            all.started(id, task.abort_handle());
            (tracked, task)
        };
        let (waiting, first) = serve(&all);
        let (answering, second) = serve(&all);
        answering.busy();
        assert_eq!(all.cut_waiting(Duration::from_secs(3600)), 0);
        assert_eq!(all.cut_waiting(Duration::ZERO), 1);
        assert!(first.await.expect_err("cut").is_cancelled());
        drop(waiting);
        answering.waiting();
        assert_eq!(all.cut_waiting(Duration::ZERO), 1);
        assert!(second.await.expect_err("cut").is_cancelled());
        assert!(all.lock().is_empty(), "a cut connection is forgotten");
    }
}
