//! What a ping carries (its action, run id and body) from anyone on the
//! network: parsed without panicking, and what is kept is text any store
//! can hold.
#![no_main]

use libfuzzer_sys::fuzz_target;
use stagegate_server::fuzzing::{action_of, kept_body, run_id};

fuzz_target!(|data: &[u8]| {
    let split = data.iter().position(|b| *b == b'|').unwrap_or(data.len());
    let (head, body) = data.split_at(split);
    let head = String::from_utf8_lossy(head);
    let (action, rid) = head.split_once('?').unwrap_or((&head, ""));
    if let Some((_, code)) = action_of(action) {
        assert!(code.is_none_or(|c| (0..=255).contains(&c)));
    }
    if let Ok(rid) = run_id(rid.to_owned()) {
        assert!(rid.chars().count() <= 64 && !rid.chars().any(char::is_control));
    }
    if let Some(kept) = kept_body(body) {
        assert!(!kept.contains('\0'), "a NUL no store can hold");
        assert!(kept.len() <= 3 * 10_000, "more than the first 10 kB");
    }
});
