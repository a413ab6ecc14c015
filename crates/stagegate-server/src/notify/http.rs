//! The one POST every web channel makes: a fresh connection through the
//! probe's client (rustls, this node's User-Agent), within [`TIMEOUT`], and
//! any answer but 2xx an error that quotes what the receiver said.

use http::{HeaderName, HeaderValue, Method};

use super::TIMEOUT;

/// A request a channel makes.
#[derive(Debug, Clone)]
pub struct Post {
    pub url: String,
    pub headers: Vec<(HeaderName, HeaderValue)>,
    pub body: String,
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
        Method::POST,
        &post.url,
        post.headers,
        Some(post.body.into()),
        TIMEOUT,
    )
    .await
    {
        Ok((status, _)) if (200..300).contains(&status) => Ok(()),
        Ok((status, body)) => Err(format!(
            "HTTP {status}: {}",
            String::from_utf8_lossy(&body)
                .chars()
                .take(200)
                .collect::<String>()
        )),
        Err(e) => Err(e),
    }
}
