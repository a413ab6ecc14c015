//! Specs for test servers, built from the parts a test needs, so no test
//! writes the product, environment and notifier tables again.

use std::fmt::Display;
use std::path::Path;

/// A spec with one environment, `prod` (staging unless set), with
/// monitoring; checks cover `core`.
#[derive(Clone, Debug)]
pub struct TestSpec {
    product: String,
    mode: String,
    hooks: Vec<(String, String)>,
    checks: String,
    extra: String,
}

impl TestSpec {
    pub fn new(product: &str) -> TestSpec {
        TestSpec {
            product: product.to_owned(),
            mode: "staging".to_owned(),
            hooks: Vec::new(),
            checks: String::new(),
            extra: String::new(),
        }
    }

    /// The rollout mode of `prod`.
    pub fn mode(mut self, mode: &str) -> TestSpec {
        self.mode = mode.to_owned();
        self
    }

    /// A webhook notifier `id` posting to `url`; contact `ops` is reached
    /// through every webhook and notified of every incident in `prod`.
    pub fn webhook(mut self, id: &str, url: impl Display) -> TestSpec {
        self.hooks.push((id.to_owned(), url.to_string()));
        self
    }

    /// A heartbeat `name` pinged at `/ping/{name}-token`, expected every
    /// `interval`, with extra `keys` (TOML lines, may be empty).
    pub fn heartbeat(self, name: &str, interval: &str, keys: &str) -> TestSpec {
        let keys = format!("token = \"{name}-token\"\ninterval = \"{interval}\"\n{keys}");
        self.check(name, "heartbeat", &keys)
    }

    /// A check `name` of `kind` with its other `keys` (TOML lines); it
    /// covers `core` unless `keys` say otherwise.
    pub fn check(mut self, name: &str, kind: &str, keys: &str) -> TestSpec {
        let covers = if keys.lines().any(|l| l.trim_start().starts_with("covers")) {
            ""
        } else {
            "covers = \"core\"\n"
        };
        self.checks.push_str(&format!(
            "\n[[environments.prod.monitoring.checks]]\nname = \"{name}\"\n{covers}kind = \"{kind}\"\n{}\n",
            keys.trim()
        ));
        self
    }

    /// Tables of other environments, policies and so on, as written.
    pub fn raw(mut self, toml: &str) -> TestSpec {
        self.extra.push('\n');
        self.extra.push_str(toml);
        self
    }

    pub fn toml(&self) -> String {
        let mut s = format!("[product]\nname = \"{}\"\n", self.product);
        if !self.hooks.is_empty() {
            let ids: Vec<String> = self
                .hooks
                .iter()
                .map(|(id, _)| format!("\"{id}\""))
                .collect();
            s.push_str(&format!(
                "\n[contacts.ops]\nemail = \"ops@example.com\"\nnotify = [{}]\n",
                ids.join(", ")
            ));
            for (id, url) in &self.hooks {
                s.push_str(&format!(
                    "\n[notifiers.{id}]\ntype = \"webhook\"\nurl = \"{url}\"\n"
                ));
            }
        }
        s.push_str(&format!(
            "\n[environments.prod]\nmode = \"{}\"\n\n[environments.prod.monitoring]\n",
            self.mode
        ));
        if !self.hooks.is_empty() {
            s.push_str("notify = [\"ops\"]\n");
        }
        s.push_str(&self.checks);
        s.push_str(&self.extra);
        s
    }

    /// Writes the spec as `stagegate.toml` in `dir`.
    pub fn write(&self, dir: &Path) {
        std::fs::write(dir.join("stagegate.toml"), self.toml()).expect("write the spec");
    }

    /// A fresh folder holding the spec as `stagegate.toml`.
    pub fn dir(&self) -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("tempdir");
        self.write(dir.path());
        dir
    }
}

/// How many webhook deliveries in `seen` are `event` about `check`.
pub fn events(seen: &std::sync::Mutex<Vec<(String, String)>>, event: &str, check: &str) -> usize {
    seen.lock()
        .expect("seen")
        .iter()
        .filter(|(_, body)| {
            body.contains(&format!("\"event\":\"{event}\""))
                && body.contains(&format!("\"check\":\"{check}\""))
        })
        .count()
}
