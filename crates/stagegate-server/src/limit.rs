//! Rate limits on the server's clock: token buckets (how many log bodies a
//! job may send) and failure backoff (how often one address may guess a
//! token). Both forget keys that have nothing to remember, so a flood of
//! distinct keys costs memory only while it lasts.

use std::collections::HashMap;
use std::sync::Mutex;

use stagegate_store::Millis;

/// Keys remembered at most; past this, keys with nothing to remember are
/// dropped first, then the oldest.
const MAX_KEYS: usize = 10_000;

/// A token bucket per key: `capacity` at once, one more every `refill_ms`.
#[derive(Debug)]
pub struct Buckets {
    capacity: f64,
    refill_ms: f64,
    map: Mutex<HashMap<String, (f64, Millis)>>,
}

impl Buckets {
    pub fn new(capacity: u32, refill_ms: Millis) -> Buckets {
        Buckets {
            capacity: f64::from(capacity.max(1)),
            refill_ms: refill_ms.max(1) as f64,
            map: Mutex::default(),
        }
    }

    /// Takes one token of `key`'s bucket; `Err(ms)` says how long until
    /// one is there.
    pub fn take(&self, key: &str, now: Millis) -> Result<(), Millis> {
        let Ok(mut map) = self.map.lock() else {
            return Ok(());
        };
        let (capacity, refill) = (self.capacity, self.refill_ms);
        let level = |(tokens, at): (f64, Millis)| {
            (tokens + (now - at).max(0) as f64 / refill).min(capacity)
        };
        let tokens = map.get(key).map_or(capacity, |b| level(*b));
        if tokens < 1.0 {
            return Err(((1.0 - tokens) * refill).ceil() as Millis);
        }
        if map.len() >= MAX_KEYS && !map.contains_key(key) {
            map.retain(|_, b| level(*b) < capacity);
            if map.len() >= MAX_KEYS {
                map.clear();
            }
        }
        map.insert(key.to_owned(), (tokens - 1.0, now));
        Ok(())
    }
}

/// Failures per key with a growing wait: after `free` failures each one
/// doubles the wait, from one second up to `max_ms`; a success forgets.
#[derive(Debug)]
pub struct Backoff {
    free: u32,
    max_ms: Millis,
    map: Mutex<HashMap<String, (u32, Millis)>>,
}

impl Backoff {
    pub fn new(free: u32, max_ms: Millis) -> Backoff {
        Backoff {
            free,
            max_ms,
            map: Mutex::default(),
        }
    }

    /// `Err(ms)` while `key` must wait before trying again.
    pub fn check(&self, key: &str, now: Millis) -> Result<(), Millis> {
        match self.map.lock().ok().and_then(|m| m.get(key).copied()) {
            Some((_, until)) if until > now => Err(until - now),
            _ => Ok(()),
        }
    }

    /// Records a failure of `key`; returns how long it must now wait.
    pub fn failed(&self, key: &str, now: Millis) -> Millis {
        let Ok(mut map) = self.map.lock() else {
            return 0;
        };
        if map.len() >= MAX_KEYS && !map.contains_key(key) {
            map.retain(|_, (_, until)| *until > now);
            if map.len() >= MAX_KEYS {
                map.clear();
            }
        }
        let entry = map.entry(key.to_owned()).or_insert((0, now));
        entry.0 = entry.0.saturating_add(1);
        let over = entry.0.saturating_sub(self.free);
        let wait = if over == 0 {
            0
        } else {
            1000i64
                .saturating_mul(1i64 << (over - 1).min(30))
                .min(self.max_ms)
        };
        entry.1 = now + wait;
        wait
    }

    pub fn succeeded(&self, key: &str) {
        if let Ok(mut map) = self.map.lock() {
            map.remove(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_refills_at_its_rate() {
        let b = Buckets::new(3, 1000);
        for _ in 0..3 {
            assert_eq!(b.take("t", 0), Ok(()));
        }
        assert_eq!(b.take("t", 0), Err(1000));
        assert_eq!(b.take("t", 400), Err(600));
        assert_eq!(b.take("t", 1000), Ok(()));
        assert_eq!(b.take("other", 1000), Ok(()), "keys are separate");
        assert_eq!(b.take("t", 10_000), Ok(()));
        assert_eq!(b.take("t", 10_000), Ok(()));
        assert_eq!(b.take("t", 10_000), Ok(()));
        assert!(b.take("t", 10_000).is_err(), "never more than its capacity");
    }

    #[test]
    fn failures_back_off_doubling_and_a_success_forgets() {
        let b = Backoff::new(3, 8_000);
        assert_eq!(
            (b.failed("ip", 0), b.failed("ip", 0), b.failed("ip", 0)),
            (0, 0, 0)
        );
        assert_eq!(b.check("ip", 0), Ok(()));
        assert_eq!(b.failed("ip", 0), 1000);
        assert_eq!(b.check("ip", 500), Err(500));
        assert_eq!(b.failed("ip", 1000), 2000);
        assert_eq!(b.failed("ip", 3000), 4000);
        assert_eq!(b.failed("ip", 7000), 8000);
        assert_eq!(b.failed("ip", 15_000), 8000, "capped");
        assert_eq!(b.check("other", 15_000), Ok(()));
        b.succeeded("ip");
        assert_eq!(b.check("ip", 15_000), Ok(()));
    }

    #[test]
    fn many_keys_do_not_grow_without_bound() {
        let b = Buckets::new(2, 1000);
        for i in 0..(MAX_KEYS * 2) {
            let _ = b.take(&i.to_string(), 0);
        }
        assert!(b.map.lock().expect("lock").len() <= MAX_KEYS);
    }
}
