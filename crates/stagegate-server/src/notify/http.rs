//! The one POST every web channel makes: a fresh connection through the
//! probe's client (rustls, this node's User-Agent), within [`TIMEOUT`], and
//! any answer but 2xx an error that quotes what the receiver said.

pub use http::Method;
use http::{HeaderName, HeaderValue};

use super::TIMEOUT;

/// A request a channel makes: a POST unless it says otherwise.
#[derive(Debug, Clone)]
pub struct Post {
    pub method: Method,
    pub url: String,
    pub headers: Vec<(HeaderName, HeaderValue)>,
    pub body: String,
}

impl Post {
    /// A POST of `body` as JSON.
    pub fn json(url: String, body: &serde_json::Value) -> Post {
        Post {
            method: Method::POST,
            url,
            headers: json(),
            body: body.to_string(),
        }
    }

    /// The JSON body, for tests that check what a channel sends.
    #[cfg(test)]
    pub fn body_json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).expect("a JSON body")
    }

    /// A header's value, for tests.
    #[cfg(test)]
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(h, _)| h == name)
            .and_then(|(_, v)| v.to_str().ok())
    }
}

/// `segment` percent-encoded for one path segment of a URL (a Matrix room
/// id, an Opsgenie alias): only unreserved characters stay as they are.
pub fn path_segment(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for b in segment.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A header, if its value is printable.
pub fn header(name: &'static str, value: &str) -> Option<(HeaderName, HeaderValue)> {
    Some((
        HeaderName::from_static(name),
        HeaderValue::from_str(value).ok()?,
    ))
}

/// `content-type: application/json`.
pub fn json() -> Vec<(HeaderName, HeaderValue)> {
    header("content-type", "application/json")
        .into_iter()
        .collect()
}

pub async fn send(post: Post, cx: &stagegate_probe::Context) -> Result<(), String> {
    match stagegate_probe::request(
        cx,
        post.method,
        &post.url,
        post.headers,
        Some(post.body.into()),
        TIMEOUT,
    )
    .await
    {
        Ok((status, _)) if (200..300).contains(&status) => Ok(()),
        Ok((status, body)) => Err(format!("HTTP {status}: {}", said(&body))),
        // Transport errors name the URL; the values of its ${NAME}s are
        // replaced by their names before anything is recorded.
        Err(e) => Err(e),
    }
}

/// What a receiver said when it refused: the error text of the channel's
/// own JSON error shape (Telegram's `description`, Matrix's `errcode` and
/// `error`, Pushover's `errors`, Gotify's `errorDescription`, Google's
/// `error.message`, Discord's and Opsgenie's `message`), else the start of
/// the body.
pub fn said(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let from_json = serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|v| error_text(&v));
    let said = from_json.unwrap_or_else(|| text.trim().to_owned());
    let mut said: String = said.chars().take(300).collect();
    said.retain(|c| !c.is_control() || c == ' ');
    said
}

fn error_text(v: &serde_json::Value) -> Option<String> {
    let s = |key: &str| {
        v.get(key)
            .and_then(|x| x.as_str())
            .filter(|x| !x.is_empty())
    };
    if let Some(d) = s("description").or(s("errorDescription")) {
        return Some(d.to_owned());
    }
    if let (Some(code), Some(error)) = (s("errcode"), s("error")) {
        return Some(format!("{code}: {error}"));
    }
    if let Some(errors) = v.get("errors").and_then(|e| e.as_array()) {
        let all: Vec<&str> = errors.iter().filter_map(|e| e.as_str()).collect();
        if !all.is_empty() {
            return Some(all.join("; "));
        }
    }
    if let Some(message) = v
        .get("error")
        .and_then(|e| e.get("message"))
        .and_then(|m| m.as_str())
    {
        return Some(message.to_owned());
    }
    s("message").or(s("error")).map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_reads_in_the_channels_own_words() {
        for (body, expected) in [
            (
                r#"{"ok":false,"error_code":400,"description":"Bad Request: chat not found"}"#,
                "Bad Request: chat not found",
            ),
            (
                r#"{"errcode":"M_FORBIDDEN","error":"User not in room"}"#,
                "M_FORBIDDEN: User not in room",
            ),
            (
                r#"{"user":"invalid","errors":["user identifier is invalid"],"status":0}"#,
                "user identifier is invalid",
            ),
            (
                r#"{"error":"Unauthorized","errorCode":401,"errorDescription":"you need to provide a valid access token"}"#,
                "you need to provide a valid access token",
            ),
            (
                r#"{"error":{"code":400,"message":"Invalid JSON payload","status":"INVALID_ARGUMENT"}}"#,
                "Invalid JSON payload",
            ),
            (
                r#"{"message":"Key format is not valid!","took":0.0}"#,
                "Key format is not valid!",
            ),
            ("<html>\nBad gateway\n</html>", "<html>Bad gateway</html>"),
        ] {
            assert_eq!(said(body.as_bytes()), expected);
        }
    }

    #[test]
    fn path_segments_keep_only_unreserved_characters() {
        assert_eq!(path_segment("!abc:example.org"), "%21abc%3Aexample.org");
        assert_eq!(path_segment("a/../b?c"), "a%2F..%2Fb%3Fc");
    }
}
