//! One HTTP/1.1 exchange over a fresh connection, written by hand so a
//! test controls every byte (and can send what no client library would).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// `(status, body)` of one request with an optional bearer token.
pub fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &str,
) -> (u16, String) {
    let auth = token
        .map(|t| format!("authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let (status, _, body) = http_with(addr, method, path, &auth, body.as_bytes());
    (status, body)
}

/// `(status, head, body)` of one request; `headers` are extra header lines,
/// each ending in `\r\n`.
pub fn http_with(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &str,
    body: &[u8],
) -> (u16, String, String) {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nhost: {addr}\r\n{headers}content-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    req.extend_from_slice(body);
    s.write_all(&req).expect("write");
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let out = String::from_utf8_lossy(&out).into_owned();
    let status = out
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let (head, body) = out
        .split_once("\r\n\r\n")
        .map(|(h, b)| (h.to_owned(), b.to_owned()))
        .unwrap_or_default();
    (status, head, body)
}

/// A body as sent, its chunked framing (if `head` says so) taken off.
pub fn unchunked(head: &str, body: &str) -> String {
    if !head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        return body.to_owned();
    }
    let mut out = String::new();
    let mut rest = body;
    while let Some((size, after)) = rest.split_once("\r\n") {
        let size =
            usize::from_str_radix(size.split(';').next().unwrap_or("").trim(), 16).unwrap_or(0);
        if size == 0 || after.len() < size {
            break;
        }
        out.push_str(&after[..size]);
        rest = after[size..].trim_start_matches("\r\n");
    }
    out
}

/// The JSON of a body that may be chunked.
pub fn json_body(body: &str) -> serde_json::Value {
    let start = body.find(['{', '[']).expect("json start");
    let end = body.rfind(['}', ']']).expect("json end");
    serde_json::from_str(&body[start..=end]).expect("json")
}

/// `(status, lower-cased head, body)` of a raw request.
pub fn exchange(addr: SocketAddr, request: &str) -> (u16, String, String) {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    s.write_all(request.as_bytes()).expect("write");
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    let (head, body) = out.split_once("\r\n\r\n").unwrap_or((&out, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (status, head.to_ascii_lowercase(), body.to_owned())
}

/// A GET with extra header lines (each ending in `\r\n`).
pub fn get_with(addr: SocketAddr, path: &str, extra: &str) -> (u16, String, String) {
    exchange(
        addr,
        &format!("GET {path} HTTP/1.1\r\nhost: {addr}\r\n{extra}connection: close\r\n\r\n"),
    )
}

/// A form POST with extra header lines.
pub fn post_form(addr: SocketAddr, path: &str, extra: &str, form: &str) -> (u16, String, String) {
    exchange(
        addr,
        &format!(
            "POST {path} HTTP/1.1\r\nhost: {addr}\r\n{extra}content-type: application/x-www-form-urlencoded\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{form}",
            form.len()
        ),
    )
}

/// `name=value` of a Set-Cookie header in a lower-cased head.
pub fn set_cookie(head: &str, name: &str) -> Option<String> {
    head.lines()
        .filter_map(|l| l.strip_prefix("set-cookie: "))
        .find(|c| c.starts_with(&format!("{name}=")))
        .map(str::to_owned)
}

/// The value of a hidden `csrf` input.
pub fn csrf_field(body: &str) -> String {
    body.split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("csrf field")
        .to_owned()
}

/// Signs in at the dashboard's form with `token`, as a browser would (the
/// form's anti-forgery cookie and field): `(status, lower-cased head,
/// body)` of the POST.
pub fn sign_in(addr: SocketAddr, token: &str) -> (u16, String, String) {
    let (_, head, body) = get_with(addr, "/login", "");
    let login_cookie = set_cookie(&head, "sg_login").expect("login cookie");
    let csrf = csrf_field(&body);
    let cookie = login_cookie
        .split(';')
        .next()
        .unwrap_or_default()
        .to_owned();
    post_form(
        addr,
        "/login",
        &format!("cookie: {cookie}\r\n"),
        &format!("token={token}&csrf={csrf}"),
    )
}
