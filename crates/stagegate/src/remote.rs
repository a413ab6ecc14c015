//! Calls to a running server's API from the command line (`drill --server`,
//! `audit verify --server`, `check --server`): a bearer token, JSON replies,
//! and failures that name the server.

use std::time::Duration;

use crate::Failure;

/// A server and the token to call it with.
pub struct Remote {
    cx: stagegate_probe::Context,
    base: String,
    /// `base` as messages show it: a password in it masked.
    shown: String,
    auth: http::HeaderValue,
}

impl Remote {
    pub fn new(server: &str, token: &str) -> Result<Remote, Failure> {
        let cx = stagegate_probe::Context::system()
            .map_err(|e| Failure::Message(format!("cannot set up the client: {e}")))?;
        let auth = http::HeaderValue::from_str(&format!("Bearer {token}"))
            .map_err(|_| Failure::Message("the token is not printable".into()))?;
        let base = server.trim_end_matches('/').to_owned();
        let shown = stagegate_probe::mask_password(&base);
        // Paths are appended to it: a query or fragment would swallow them.
        if !(base.starts_with("http://") || base.starts_with("https://"))
            || base.contains(['?', '#'])
        {
            return Err(Failure::Message(format!(
                "the server {shown}: expected an http:// or https:// URL without a query or fragment, such as https://stagegate.example.com"
            )));
        }
        Ok(Remote {
            cx,
            base,
            shown,
            auth,
        })
    }

    /// The server, as messages may show it.
    pub fn server(&self) -> &str {
        &self.shown
    }

    /// `method` on `path` (from `/api/v1/...`): the status and the reply as
    /// JSON (`null` when it is not JSON).
    pub async fn call(
        &self,
        method: http::Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> Result<(u16, serde_json::Value), Failure> {
        let url = format!("{}{path}", self.base);
        let mut headers = vec![(http::header::AUTHORIZATION, self.auth.clone())];
        let body = match body {
            Some(b) => {
                headers.push((
                    http::header::CONTENT_TYPE,
                    http::HeaderValue::from_static("application/json"),
                ));
                Some(b.to_string().into_bytes())
            }
            None => None,
        };
        let (status, reply) = stagegate_probe::request(
            &self.cx,
            method,
            &url,
            headers,
            body.map(Into::into),
            Duration::from_secs(30),
        )
        .await
        .map_err(|e| {
            Failure::Message(format!(
                "cannot reach {}: {}",
                self.shown,
                e.replace(&self.base, &self.shown)
            ))
        })?;
        let json = serde_json::from_slice(&reply).unwrap_or(serde_json::Value::Null);
        Ok((status, json))
    }

    /// GET `path`, which must answer 200; otherwise a failure that says
    /// what the server answered.
    pub async fn get(&self, path: &str) -> Result<serde_json::Value, Failure> {
        let (status, json) = self.call(http::Method::GET, path, None).await?;
        if status != 200 {
            let why = json["error"].as_str().unwrap_or("unexpected reply");
            return Err(Failure::Message(format!(
                "{} answered {status} to GET {path}: {why}",
                self.base
            )));
        }
        Ok(json)
    }
}
