//! Logs on stderr and, with the `otlp` feature, traces to an OpenTelemetry
//! collector.
//!
//! Spans are opened for each notification delivery (INFO), each probe run
//! and each API request (DEBUG). Logs show INFO and above, so the frequent
//! spans cost nothing unless traces are exported.

use tracing_subscriber::Layer;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use crate::cli::LogFormat;

/// Keeps the trace pipeline alive; dropping it without `shutdown` loses
/// the spans not yet exported.
#[derive(Debug, Default)]
pub struct Telemetry {
    #[cfg(feature = "otlp")]
    provider: Option<opentelemetry_sdk::trace::SdkTracerProvider>,
}

impl Telemetry {
    /// Exports what is still buffered. Call it outside the runtime's
    /// `block_on`, while the runtime still exists: the export runs on it.
    pub fn shutdown(self) {
        #[cfg(feature = "otlp")]
        if let Some(provider) = self.provider
            && let Err(e) = provider.shutdown()
        {
            eprintln!("stagegate: exporting the last traces failed: {e}");
        }
    }
}

fn fmt_layer<S>(format: LogFormat) -> Box<dyn Layer<S> + Send + Sync>
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    let ansi = anstream::AutoStream::choice(&std::io::stderr()) != anstream::ColorChoice::Never;
    let layer = tracing_subscriber::fmt::layer()
        .with_target(false)
        .with_ansi(ansi);
    match format {
        // A terminal shows styles; anything else (a file, journald) gets
        // one event per line whatever the text logged says.
        LogFormat::Text if ansi => layer
            .with_writer(std::io::stderr)
            .with_filter(LevelFilter::INFO)
            .boxed(),
        LogFormat::Text => layer
            .with_writer(|| PlainLines)
            .with_filter(LevelFilter::INFO)
            .boxed(),
        LogFormat::Json => layer
            .json()
            .with_writer(std::io::stderr)
            .with_filter(LevelFilter::INFO)
            .boxed(),
    }
}

/// Stderr for plain text logs, where one line is one event as far as any
/// reader can tell: control characters from untrusted text (a webhook's
/// answer, a check's name, a ping's body) are shown escaped, so they can
/// neither restyle a terminal nor start a forged line, and the further
/// lines of a multi-line message are indented under the first.
struct PlainLines;

impl std::io::Write for PlainLines {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.write_all(buf)?;
        Ok(buf.len())
    }

    /// The formatter writes each event whole, in one call.
    fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        std::io::stderr()
            .lock()
            .write_all(plain_lines(&String::from_utf8_lossy(buf)).as_bytes())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

fn plain_lines(event: &str) -> String {
    let (body, end) = match event.strip_suffix('\n') {
        Some(body) => (body, "\n"),
        None => (event, ""),
    };
    let mut out = String::with_capacity(event.len() + 8);
    for c in body.chars() {
        match c {
            '\n' => out.push_str("\n    "),
            '\t' => out.push('\t'),
            c if c.is_control() => out.extend(c.escape_unicode()),
            c => out.push(c),
        }
    }
    out.push_str(end);
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_event_stays_one_line_and_shows_no_control_characters() {
        assert_eq!(
            super::plain_lines("WARN failed error=\u{1b}[31mred\nFAKE INFO line\n"),
            "WARN failed error=\\u{1b}[31mred\n    FAKE INFO line\n"
        );
        assert_eq!(super::plain_lines("INFO plain\n"), "INFO plain\n");
    }
}

/// Where traces go, if anywhere.
#[derive(Debug, Default)]
pub struct TraceOptions {
    #[cfg(feature = "otlp")]
    pub otlp_endpoint: Option<String>,
    #[cfg(feature = "otlp")]
    pub node: String,
    #[cfg(feature = "otlp")]
    pub location: String,
}

/// Installs the global subscriber.
#[cfg_attr(not(feature = "otlp"), allow(unused_variables))]
pub fn init(
    format: LogFormat,
    traces: TraceOptions,
    runtime: &tokio::runtime::Handle,
) -> Result<Telemetry, String> {
    #[cfg(feature = "otlp")]
    if let Some(endpoint) = otlp::endpoint(traces.otlp_endpoint.as_deref()) {
        let (layer, provider) = otlp::layer(&endpoint, &traces, runtime.clone())?;
        let _ = tracing_subscriber::registry()
            .with(fmt_layer(format))
            .with(layer)
            .try_init();
        tracing::info!(%endpoint, "exporting traces over OTLP/HTTP");
        return Ok(Telemetry {
            provider: Some(provider),
        });
    }
    let _ = tracing_subscriber::registry()
        .with(fmt_layer(format))
        .try_init();
    Ok(Telemetry::default())
}

#[cfg(feature = "otlp")]
mod otlp {
    use std::sync::Arc;
    use std::time::Duration;

    use opentelemetry::KeyValue;
    use opentelemetry::trace::TracerProvider as _;
    use opentelemetry_http::{Bytes, HttpClient, HttpError, Request, Response};
    use opentelemetry_otlp::{Protocol, WithExportConfig, WithHttpConfig};
    use opentelemetry_sdk::Resource;
    use opentelemetry_sdk::trace::SdkTracerProvider;
    use tracing_subscriber::Layer;
    use tracing_subscriber::filter::LevelFilter;

    use super::TraceOptions;

    /// The collector's traces URL: the flag, else the standard variables.
    /// A bare `http://host:4318` gets the standard `/v1/traces` path.
    pub fn endpoint(flag: Option<&str>) -> Option<String> {
        if let Some(url) = flag.filter(|u| !u.is_empty()) {
            let trimmed = url.trim_end_matches('/');
            let has_path = trimmed
                .split_once("://")
                .is_some_and(|(_, rest)| rest.contains('/'));
            return Some(if has_path {
                url.to_owned()
            } else {
                format!("{trimmed}/v1/traces")
            });
        }
        if let Ok(url) = std::env::var("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") {
            return Some(url);
        }
        std::env::var("OTEL_EXPORTER_OTLP_ENDPOINT")
            .ok()
            .map(|base| format!("{}/v1/traces", base.trim_end_matches('/')))
    }

    /// Posts export batches with stagegate's own HTTP client (rustls, the
    /// same roots as the probes). The SDK exports from its own thread, so
    /// each request is handed to the server's runtime.
    #[derive(Debug)]
    struct Client {
        cx: Arc<stagegate_probe::Context>,
        runtime: tokio::runtime::Handle,
    }

    #[async_trait::async_trait]
    impl HttpClient for Client {
        async fn send_bytes(&self, request: Request<Bytes>) -> Result<Response<Bytes>, HttpError> {
            let (parts, body) = request.into_parts();
            let url = parts.uri.to_string();
            let headers = parts
                .headers
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            let cx = self.cx.clone();
            let (status, body) = self
                .runtime
                .spawn(async move {
                    stagegate_probe::request(
                        &cx,
                        parts.method,
                        &url,
                        headers,
                        Some(body),
                        Duration::from_secs(10),
                    )
                    .await
                })
                .await??;
            Ok(Response::builder().status(status).body(body)?)
        }
    }

    pub fn layer<S>(
        endpoint: &str,
        traces: &TraceOptions,
        runtime: tokio::runtime::Handle,
    ) -> Result<(impl Layer<S> + use<S>, SdkTracerProvider), String>
    where
        S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
    {
        let cx = stagegate_probe::Context::system().map_err(|e| e.to_string())?;
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_http_client(Client {
                cx: Arc::new(cx),
                runtime,
            })
            .with_protocol(Protocol::HttpBinary)
            .with_endpoint(endpoint)
            .with_timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| format!("cannot export traces to {endpoint}: {e}"))?;
        let mut resource = Resource::builder()
            .with_service_name("stagegate")
            .with_attribute(KeyValue::new("service.version", env!("CARGO_PKG_VERSION")));
        if !traces.node.is_empty() {
            resource =
                resource.with_attribute(KeyValue::new("service.instance.id", traces.node.clone()));
        }
        if !traces.location.is_empty() {
            resource = resource
                .with_attribute(KeyValue::new("stagegate.location", traces.location.clone()));
        }
        let provider = SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .with_resource(resource.build())
            .build();
        let layer = tracing_opentelemetry::layer()
            .with_tracer(provider.tracer("stagegate"))
            .with_filter(LevelFilter::DEBUG);
        Ok((layer, provider))
    }

    #[cfg(test)]
    mod tests {
        #[test]
        fn endpoint_gets_the_traces_path_when_it_has_none() {
            assert_eq!(
                super::endpoint(Some("http://127.0.0.1:4318")).as_deref(),
                Some("http://127.0.0.1:4318/v1/traces")
            );
            assert_eq!(
                super::endpoint(Some("http://c:4318/")).as_deref(),
                Some("http://c:4318/v1/traces")
            );
            assert_eq!(
                super::endpoint(Some("https://c/otlp/v1/traces")).as_deref(),
                Some("https://c/otlp/v1/traces")
            );
        }
    }
}
