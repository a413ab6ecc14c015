//! Public status pages (SPEC.md §12): `/status`, `/status/{env}` (HTML),
//! `/status/{env}.json`, `/status/{env}/feed.atom` and badges under
//! `/badge/{env}/`, without sign-in. What they may show is decided once,
//! in [`page`]; everything here only renders it.
//!
//! Pages are rendered once and served from memory with an ETag until
//! something changes (an incident opens, resolves or gets a public update,
//! the spec is reloaded) or [`FRESH_MS`] passes, so a page of hundreds of
//! components costs a map lookup per request. Then the last page is still
//! served while one rebuild runs behind it: only the very first reader of
//! a page waits for it.

mod atom;
mod badge;
pub mod page;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use stagegate_store::Millis;

use crate::AppState;
use page::{Page, shown};

/// How long a rendered page is served before its uptime is read again.
pub const FRESH_MS: Millis = 15_000;

/// How long reading a page's data may take before the last page is
/// served instead: a status page matters most when things are slow.
const BUILD_WITHIN: std::time::Duration = std::time::Duration::from_secs(2);

pub fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/status", get(index))
        .route("/status/{page}", get(status))
        .route("/status/{env}/feed.atom", get(feed))
        .route("/badge/{env}/{file}", get(badge))
        .route("/badge/{env}/{component}/uptime.svg", get(component_uptime))
        .route("/assets/status.css", get(style))
}

/// One response body and its validator.
#[derive(Clone)]
struct Body {
    bytes: Bytes,
    etag: HeaderValue,
}

impl Body {
    /// A body validated by its own bytes (a strong ETag).
    fn new(bytes: impl Into<Bytes>) -> Body {
        let bytes = bytes.into();
        let hash = crate::auth::sha256_hex(&bytes);
        Body::tagged(bytes, format!("\"{}\"", &hash[..32]))
    }

    /// A body whose bytes also say when it was generated: validated by
    /// what it shows (a weak ETag), so a rebuild that changes nothing but
    /// the time still answers 304.
    fn weak(bytes: impl Into<Bytes>, kind: &str, content: &str) -> Body {
        Body::tagged(bytes.into(), format!("W/\"{kind}-{content}\""))
    }

    fn tagged(bytes: Bytes, etag: String) -> Body {
        Body {
            etag: HeaderValue::from_str(&etag).unwrap_or(HeaderValue::from_static("\"0\"")),
            bytes,
        }
    }
}

/// Everything public about one environment, rendered.
#[derive(Clone)]
struct Rendered {
    generation: u64,
    /// When it was built, or last served again because rebuilding failed.
    checked_at: Millis,
    /// The same, in real time.
    built: std::time::Instant,
    page: Page,
    html: Body,
    json: Body,
    atom: Body,
    /// `uptime.svg`, `{slug}.svg` and `{slug}/uptime.svg`.
    badges: HashMap<String, Body>,
}

/// Rendered pages by environment.
#[derive(Default)]
pub struct Cache {
    pages: RwLock<HashMap<String, Arc<Rendered>>>,
    /// One rebuild at a time; a first reader waits for it, the others are
    /// served the last page meanwhile.
    building: Arc<tokio::sync::Mutex<()>>,
    /// Bumped whenever what a page shows may have changed.
    generation: AtomicU64,
    /// When building each page last failed: without a page to serve
    /// instead, requests meanwhile are answered at once, not each after
    /// the build deadline.
    failed: std::sync::Mutex<HashMap<String, Millis>>,
}

impl std::fmt::Debug for Cache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cache")
            .field("generation", &self.generation.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl Cache {
    /// Pages built before now are stale.
    pub fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::Relaxed);
    }

    /// The last page built for `env`, however old.
    fn last(&self, env: &str) -> Option<Arc<Rendered>> {
        self.pages.read().ok()?.get(env).cloned()
    }

    fn failed_recently(&self, env: &str, now: Millis) -> bool {
        self.failed
            .lock()
            .ok()
            .and_then(|f| f.get(env).copied())
            .is_some_and(|at| (0..FRESH_MS).contains(&(now - at)))
    }

    /// The last page of `env`, served again until the next try: the
    /// requests meanwhile do not each wait for a store that does not
    /// answer.
    fn stale(&self, env: &str, now: Millis) -> Option<Arc<Rendered>> {
        let mut pages = self.pages.write().ok()?;
        let last = pages.get(env)?;
        let again = Arc::new(Rendered {
            generation: self.generation.load(Ordering::Relaxed),
            checked_at: now,
            built: std::time::Instant::now(),
            ..Rendered::clone(last)
        });
        pages.insert(env.to_owned(), again.clone());
        Some(again)
    }

    fn fresh(&self, env: &str, now: Millis) -> Option<Arc<Rendered>> {
        let pages = self.pages.read().ok()?;
        let r = pages.get(env)?;
        (r.generation == self.generation.load(Ordering::Relaxed)
            && now - r.checked_at < FRESH_MS
            && now >= r.checked_at)
            .then(|| r.clone())
    }
}

/// What went wrong serving a page: not there, or the store is down.
enum Miss {
    NotFound,
    Store,
}

async fn rendered(state: &Arc<AppState>, env: &str) -> Result<Arc<Rendered>, Miss> {
    let cache = &state.status_pages;
    let now = state.clock.now();
    if let Some(r) = cache.fresh(env, now) {
        return Ok(r);
    }
    // Names without a page never wait behind a rebuild.
    let published = state
        .snapshot()
        .spec
        .environment(env)
        .is_some_and(|e| e.status_page.is_some());
    if !published {
        return Err(Miss::NotFound);
    }
    if let Some(last) = cache.last(env) {
        // The last page now beats a fresh one later: no reader waits for a
        // rebuild, which runs behind this answer, one at a time and at most
        // once per REBUILD_EVERY_MS however often checks flap.
        if last.built.elapsed() >= REBUILD_EVERY {
            refresh_behind(state, env);
        }
        return Ok(last);
    }
    // No page yet: the first reader waits for it (bounded by BUILD_WITHIN).
    let _building = match cache.building.try_lock() {
        Ok(guard) => guard,
        Err(_) => {
            if cache.failed_recently(env, now) {
                return Err(Miss::Store);
            }
            cache.building.lock().await
        }
    };
    let now = state.clock.now();
    if let Some(r) = cache.fresh(env, now).or_else(|| cache.last(env)) {
        return Ok(r);
    }
    if cache.failed_recently(env, now) {
        return Err(Miss::Store);
    }
    rebuild(state, env, now).await
}

/// The least time between two rebuilds of a page whose checks keep
/// changing (real time: it spares the processor, whatever the clock says).
const REBUILD_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// Rebuilds `env`'s page in the background unless a rebuild is running.
fn refresh_behind(state: &Arc<AppState>, env: &str) {
    let Ok(guard) = state.status_pages.building.clone().try_lock_owned() else {
        return;
    };
    let state = state.clone();
    let env = env.to_owned();
    tokio::spawn(async move {
        let _building = guard;
        let now = state.clock.now();
        if state.status_pages.fresh(&env, now).is_none() {
            let _ = rebuild(&state, &env, now).await;
        }
    });
}

/// Reads and renders `env`'s page, and keeps it; when the store fails or
/// is slow, keeps serving the last page until the next try.
async fn rebuild(state: &AppState, env: &str, now: Millis) -> Result<Arc<Rendered>, Miss> {
    let cache = &state.status_pages;
    let generation = cache.generation.load(Ordering::Relaxed);
    let snapshot = state.snapshot();
    let why = match tokio::time::timeout(
        BUILD_WITHIN,
        page::build(state.store.as_ref(), &snapshot, env, now),
    )
    .await
    {
        Ok(Ok(Some(page))) => {
            if let Ok(mut failed) = cache.failed.lock() {
                failed.remove(env);
            }
            let r = Arc::new(render(page, generation, now));
            if let Ok(mut pages) = cache.pages.write() {
                // Pages of environments no longer in the spec go now.
                pages.retain(|name, _| snapshot.spec.environment(name).is_some());
                pages.insert(env.to_owned(), r.clone());
            }
            return Ok(r);
        }
        Ok(Ok(None)) => return Err(Miss::NotFound),
        Ok(Err(e)) => e.to_string(),
        Err(_) => format!("no answer within {} s", BUILD_WITHIN.as_secs()),
    };
    state.metrics.store_error();
    tracing::error!(error = %why, "cannot read a status page's data");
    if let Ok(mut failed) = cache.failed.lock() {
        failed.insert(env.to_owned(), now);
    }
    // During an outage of the store the last page is better than none: it
    // says when it was generated.
    cache.stale(env, now).ok_or(Miss::Store)
}

fn render(page: Page, generation: u64, now: Millis) -> Rendered {
    let html = StatusHtml { page: &page }
        .render()
        .unwrap_or_else(|e| format!("<!doctype html><title>Status</title><p>{e}</p>"));
    let json = serde_json::to_vec(&page).unwrap_or_default();
    // What the page shows, without the moment it was generated.
    let content = {
        let mut timeless = page.clone();
        timeless.generated_at.clear();
        let hash = crate::auth::sha256_hex(&serde_json::to_vec(&timeless).unwrap_or_default());
        hash[..32].to_owned()
    };
    let mut badges = HashMap::new();
    badges.insert(
        "uptime.svg".to_owned(),
        Body::new(badge::badge(
            "uptime 90d",
            &page
                .uptime
                .map_or_else(|| "no data".to_owned(), |u| format!("{}%", shown(u))),
            badge::uptime_colour(page.uptime),
        )),
    );
    for c in &page.components {
        badges.insert(
            format!("{}.svg", c.slug),
            Body::new(badge::state(&c.name, c.status)),
        );
        badges.insert(
            format!("{}/uptime.svg", c.slug),
            Body::new(badge::badge(
                &format!("{} 90d", c.name),
                &c.uptime
                    .map_or_else(|| "no data".to_owned(), |u| format!("{}%", shown(u))),
                badge::uptime_colour(c.uptime),
            )),
        );
    }
    Rendered {
        generation,
        checked_at: now,
        built: std::time::Instant::now(),
        html: Body::weak(html, "html", &content),
        json: Body::weak(json, "json", &content),
        atom: Body::weak(atom::feed(&page), "atom", &content),
        badges,
        page,
    }
}

/// `body` with its type, validator and caching headers, or 304 when the
/// client holds it already.
fn serve(headers: &HeaderMap, body: &Body, content_type: &'static str, max_age: u32) -> Response {
    let cache_control = format!("public, max-age={max_age}");
    let matches = headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|tag| {
            // The weak comparison (RFC 9110 §8.8.3.2), as If-None-Match uses.
            let tag = tag.trim();
            let ours = body.etag.to_str().unwrap_or_default();
            tag == "*" || tag.trim_start_matches("W/") == ours.trim_start_matches("W/")
        });
    let common = [
        (header::ETAG, body.etag.clone()),
        (
            header::CACHE_CONTROL,
            HeaderValue::from_str(&cache_control).unwrap_or(HeaderValue::from_static("no-cache")),
        ),
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        (
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            HeaderValue::from_static("*"),
        ),
        (
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'none'; style-src 'self'; img-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
            ),
        ),
        (
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ),
    ];
    if matches {
        return (StatusCode::NOT_MODIFIED, common).into_response();
    }
    (
        StatusCode::OK,
        common,
        [(header::CONTENT_TYPE, HeaderValue::from_static(content_type))],
        body.bytes.clone(),
    )
        .into_response()
}

fn missing(miss: Miss) -> Response {
    let (status, text) = match miss {
        Miss::NotFound => (StatusCode::NOT_FOUND, "There is no status page here."),
        Miss::Store => (
            StatusCode::SERVICE_UNAVAILABLE,
            "The status page cannot be shown right now; try again in a minute.",
        ),
    };
    (
        status,
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        text,
    )
        .into_response()
}

#[derive(Template)]
#[template(path = "status.html")]
struct StatusHtml<'a> {
    page: &'a Page,
}

impl StatusHtml<'_> {
    /// The class of a day's bar: full, nearly, partly, mostly down, none.
    fn bar(&self, uptime: &Option<f64>) -> &'static str {
        match uptime {
            None => "n",
            Some(u) if *u >= 100.0 => "u",
            Some(u) if *u >= 99.0 => "p",
            Some(u) if *u >= 90.0 => "d",
            Some(_) => "o",
        }
    }

    fn pct(&self, uptime: &Option<f64>) -> String {
        uptime.map_or_else(|| "no data".to_owned(), |u| format!("{} %", shown(u)))
    }

    /// The days below 100 %, newest first: the bars' text alternative.
    fn bad_days<'c>(&self, c: &'c page::Component) -> Vec<&'c page::Day> {
        c.days
            .iter()
            .rev()
            .filter(|d| d.uptime.is_some_and(|u| u < 100.0))
            .collect()
    }

    fn words(&self, status: &str) -> String {
        atom::capitalised(status)
    }

    /// `2026-11-30T10:00:00Z` as `2026-11-30 10:00 UTC`.
    fn when(&self, at: &str) -> String {
        at.get(..16)
            .map_or_else(|| at.to_owned(), |s| format!("{} UTC", s.replace('T', " ")))
    }
}

struct Listed {
    name: String,
    title: String,
    headline: String,
    status: &'static str,
}

#[derive(Template)]
#[template(path = "status_index.html")]
struct IndexHtml {
    pages: Vec<Listed>,
}

/// `GET /status`: every environment with a public page.
async fn index(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    let snapshot = state.snapshot();
    let mut pages = Vec::new();
    for env in snapshot
        .spec
        .environments
        .iter()
        .filter(|e| e.status_page.is_some())
    {
        match rendered(&state, &env.name.value).await {
            Ok(r) => pages.push(Listed {
                name: env.name.value.clone(),
                title: r.page.title.clone(),
                headline: r.page.headline.clone(),
                status: r.page.status.as_str(),
            }),
            Err(miss) => return missing(miss),
        }
    }
    let html = IndexHtml { pages }.render().unwrap_or_default();
    serve(&headers, &Body::new(html), "text/html; charset=utf-8", 15)
}

/// `GET /status/{env}` and `GET /status/{env}.json`.
async fn status(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Response {
    let (env, json) = match name.strip_suffix(".json") {
        Some(env) => (env, true),
        None => (name.as_str(), false),
    };
    match rendered(&state, env).await {
        Ok(r) if json => serve(&headers, &r.json, "application/json", 15),
        Ok(r) => serve(&headers, &r.html, "text/html; charset=utf-8", 15),
        Err(miss) => missing(miss),
    }
}

async fn feed(
    State(state): State<Arc<AppState>>,
    Path(env): Path<String>,
    headers: HeaderMap,
) -> Response {
    match rendered(&state, &env).await {
        Ok(r) => serve(&headers, &r.atom, "application/atom+xml; charset=utf-8", 60),
        Err(miss) => missing(miss),
    }
}

async fn badge(
    State(state): State<Arc<AppState>>,
    Path((env, file)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    badge_at(&state, &env, &file, &headers).await
}

async fn component_uptime(
    State(state): State<Arc<AppState>>,
    Path((env, component)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    badge_at(&state, &env, &format!("{component}/uptime.svg"), &headers).await
}

async fn badge_at(state: &Arc<AppState>, env: &str, file: &str, headers: &HeaderMap) -> Response {
    match rendered(state, env).await {
        Ok(r) => match r.badges.get(file) {
            Some(body) => serve(headers, body, "image/svg+xml", 60),
            None => missing(Miss::NotFound),
        },
        Err(miss) => missing(miss),
    }
}

const STYLE: &str = include_str!("../../assets/status.css");

async fn style() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        STYLE,
    )
        .into_response()
}
