//! Which client connections are waiting for a request, and since when: when
//! every connection is taken, the ones that have waited longest are cut, so
//! clients that open connections and send nothing (from as many addresses
//! as they like) cannot keep everyone else out until their header timeout.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::Notify;

/// How long a connection may wait for a request before it can be cut when
/// the server is full: a real client sends its headers long before.
pub const GRACE: Duration = Duration::from_secs(2);

#[derive(Debug, Default)]
struct Open {
    next: u64,
    /// Per connection: since when it waits for a request (`None` while one
    /// is being answered), and how to cut it.
    conns: HashMap<u64, (Option<Instant>, Arc<Notify>)>,
}

#[derive(Clone, Debug, Default)]
pub struct Connections(Arc<Mutex<Open>>);

/// One open connection; dropping it forgets the connection.
#[derive(Debug)]
pub struct Tracked {
    id: u64,
    all: Connections,
    pub cut: Arc<Notify>,
}

impl Connections {
    /// A new connection, waiting for its first request.
    pub fn open(&self) -> Tracked {
        let cut = Arc::new(Notify::new());
        let mut open = self.0.lock().unwrap_or_else(|p| p.into_inner());
        open.next += 1;
        let id = open.next;
        open.conns.insert(id, (Some(Instant::now()), cut.clone()));
        Tracked {
            id,
            all: self.clone(),
            cut,
        }
    }

    /// Cuts every connection that has waited for a request longer than
    /// `grace`; returns how many.
    pub fn cut_waiting(&self, grace: Duration) -> usize {
        let open = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let mut cut = 0;
        for (since, notify) in open.conns.values() {
            if since.is_some_and(|t| t.elapsed() >= grace) {
                notify.notify_one();
                cut += 1;
            }
        }
        cut
    }

    fn set(&self, id: u64, since: Option<Instant>) {
        let mut open = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(c) = open.conns.get_mut(&id) {
            c.0 = since;
        }
    }
}

impl Tracked {
    /// A request arrived: not to be cut while it is answered.
    pub fn busy(&self) {
        self.all.set(self.id, None);
    }

    /// Answered: waiting for the next request from now on.
    pub fn waiting(&self) {
        self.all.set(self.id, Some(Instant::now()));
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        let mut open = self.all.0.lock().unwrap_or_else(|p| p.into_inner());
        open.conns.remove(&self.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_connections_waiting_past_the_grace_are_cut() {
        let all = Connections::default();
        let waiting = all.open();
        let answering = all.open();
        answering.busy();
        assert_eq!(all.cut_waiting(Duration::from_secs(3600)), 0);
        assert_eq!(all.cut_waiting(Duration::ZERO), 1);
        answering.waiting();
        assert_eq!(all.cut_waiting(Duration::ZERO), 2);
        drop(waiting);
        drop(answering);
        assert_eq!(all.cut_waiting(Duration::ZERO), 0);
    }
}
