//! Keeping secrets out of what stagegate shows. A `${NAME}` value resolved
//! from the environment (a token in a URL's query, a password in a
//! database URL, a webhook's secret path) may come back in a probe's
//! message, a delivery error or a log line; the [`Redactor`] puts the
//! reference back where the value appears, so text reads as the spec was
//! written. [`mask_userinfo`] hides a password written into a URL itself.

use std::borrow::Cow;

/// Values shorter than this are not searched for: "80" or "eu" would turn
/// every number and word into a reference. A secret that short is no
/// secret.
const SHORTEST: usize = 4;

/// The values of the variables a spec used, each with its name.
#[derive(Clone, Default)]
pub struct Redactor {
    /// (text to find, replacement), longest first so a value containing
    /// another is replaced whole.
    secrets: Vec<(String, String)>,
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Redactor")
            .field("values", &self.secrets.len())
            .finish()
    }
}

/// Percent-encodes everything but RFC 3986's unreserved characters: how a
/// value may appear once it went through a URL.
pub(crate) fn percent_encoded(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `%XX` escapes decoded (a `%` not followed by two hex digits stays);
/// `None` when the result is not UTF-8.
pub fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(b) = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).ok()
}

impl Redactor {
    /// Remembers that `${name}` resolved to `value`.
    pub fn record(&mut self, name: &str, value: &str) {
        if value.chars().count() < SHORTEST {
            return;
        }
        let reference = format!("${{{name}}}");
        for form in [value.to_owned(), percent_encoded(value)] {
            if !self.secrets.iter().any(|(v, _)| *v == form) {
                self.secrets.push((form, reference.clone()));
            }
        }
        self.secrets
            .sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(&b.0)));
    }

    /// Adds everything `other` remembers.
    pub fn extend(&mut self, other: &Redactor) {
        for (value, reference) in &other.secrets {
            if !self.secrets.iter().any(|(v, _)| v == value) {
                self.secrets.push((value.clone(), reference.clone()));
            }
        }
        self.secrets
            .sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(&b.0)));
    }

    pub fn is_empty(&self) -> bool {
        self.secrets.is_empty()
    }

    /// `text` with every remembered value replaced by its `${NAME}`.
    pub fn redact<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let mut out = Cow::Borrowed(text);
        for (value, reference) in &self.secrets {
            if out.contains(value.as_str()) {
                out = Cow::Owned(out.replace(value.as_str(), reference));
            }
        }
        out
    }
}

impl Redactor {
    /// `text` as it may be shown anywhere: remembered values back to their
    /// `${NAME}`, and the password of any URL in it masked.
    pub fn show<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let text = self.redact(text);
        if !(text.contains("://") && text.contains('@')) {
            return text;
        }
        let words: Vec<Cow<'_, str>> = text.split(' ').map(mask_userinfo).collect();
        Cow::Owned(words.join(" "))
    }
}

/// Looks variables up and remembers every value it hands out, so whatever
/// used them can be shown with the values hidden again.
pub struct Recorder<'a> {
    env: crate::EnvLookup<'a>,
    seen: std::cell::RefCell<Redactor>,
}

impl std::fmt::Debug for Recorder<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recorder").finish_non_exhaustive()
    }
}

impl<'a> Recorder<'a> {
    pub fn new(env: crate::EnvLookup<'a>) -> Recorder<'a> {
        Recorder {
            env,
            seen: Default::default(),
        }
    }

    /// What `env` says of `name`, remembered.
    pub fn lookup(&self, name: &str) -> Option<String> {
        let value = (self.env)(name);
        if let Some(v) = &value {
            self.seen.borrow_mut().record(name, v);
        }
        value
    }

    /// Everything looked up so far.
    pub fn redactor(&self) -> Redactor {
        self.seen.borrow().clone()
    }
}

/// `url` with the password of its userinfo (`user:password@`) shown as
/// `***`; anything that is not such a URL is returned as it is.
pub fn mask_userinfo(url: &str) -> Cow<'_, str> {
    let Some(scheme_end) = url.find("://") else {
        return Cow::Borrowed(url);
    };
    let rest = &url[scheme_end + 3..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    let Some(at) = authority.rfind('@') else {
        return Cow::Borrowed(url);
    };
    let userinfo = &authority[..at];
    let Some(colon) = userinfo.find(':') else {
        return Cow::Borrowed(url);
    };
    Cow::Owned(format!(
        "{}{}:***{}",
        &url[..scheme_end + 3],
        &userinfo[..colon],
        &rest[at..]
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_become_references_again() {
        let mut r = Redactor::default();
        r.record("TOKEN", "s3cr3t/with+slash");
        r.record("SHORT", "80");
        r.record("HOOK", "T000/B000/XXXXSECRET");
        let text =
            "GET https://x/?token=s3cr3t%2Fwith%2Bslash: connection refused (s3cr3t/with+slash)";
        assert_eq!(
            r.redact(text),
            "GET https://x/?token=${TOKEN}: connection refused (${TOKEN})"
        );
        assert_eq!(
            r.redact("https://hooks.slack.com/services/T000/B000/XXXXSECRET answered 404"),
            "https://hooks.slack.com/services/${HOOK} answered 404"
        );
        assert_eq!(
            r.redact("port 80 is open"),
            "port 80 is open",
            "too short to hide"
        );
        assert!(matches!(r.redact("nothing here"), Cow::Borrowed(_)));
        assert!(
            !format!("{r:?}").contains("s3cr3t"),
            "Debug never shows a value"
        );
    }

    #[test]
    fn a_recorder_remembers_what_it_handed_out() {
        let env = |name: &str| (name == "HOOK").then(|| "T0/B0/secret-part".to_owned());
        let rec = Recorder::new(&env);
        assert_eq!(rec.lookup("HOOK").as_deref(), Some("T0/B0/secret-part"));
        assert_eq!(rec.lookup("UNSET"), None);
        assert_eq!(
            rec.redactor()
                .redact("POST https://x/T0/B0/secret-part failed"),
            "POST https://x/${HOOK} failed"
        );
    }

    #[test]
    fn the_longest_value_wins() {
        let mut r = Redactor::default();
        r.record("A", "abcd");
        r.record("B", "abcdefgh");
        assert_eq!(r.redact("x abcdefgh y abcd"), "x ${B} y ${A}");
    }

    #[test]
    fn shown_text_hides_values_and_url_passwords() {
        let mut r = Redactor::default();
        r.record("TOKEN", "tok-123456");
        assert_eq!(
            r.show("GET https://u:pw@host/?t=tok-123456: refused"),
            "GET https://u:***@host/?t=${TOKEN}: refused"
        );
        assert!(matches!(r.show("plain words"), Cow::Borrowed(_)));
    }

    #[test]
    fn passwords_in_urls_are_masked() {
        assert_eq!(
            mask_userinfo("postgres://app:hunter2@db:5432/x?sslmode=require"),
            "postgres://app:***@db:5432/x?sslmode=require"
        );
        assert_eq!(
            mask_userinfo("https://user:p@ss@host/path"),
            "https://user:***@host/path"
        );
        assert_eq!(mask_userinfo("https://user@host/"), "https://user@host/");
        assert_eq!(
            mask_userinfo("https://host/a@b:c"),
            "https://host/a@b:c",
            "an @ in the path is not userinfo"
        );
        assert_eq!(mask_userinfo("not a url"), "not a url");
    }
}
