//! OpenTelemetry's standard variables, read into a [`TraceSettings`].
//!
//! | Variable | Read as | Default |
//! |---|---|---|
//! | `OTEL_SDK_DISABLED` | `true` turns tracing off | `false` |
//! | `OTEL_TRACES_EXPORTER` | `otlp`, `console`, `none` (comma-separated) | `otlp` when an OTLP endpoint variable is set, else `none` |
//! | `OTEL_EXPORTER_OTLP_ENDPOINT` | base URL; `/v1/traces` is added (gRPC: the collector's `http(s)://host:port`, used as it is) | `http://localhost:4318` (gRPC: `http://localhost:4317`) |
//! | `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` | full URL, used as it is | – |
//! | `OTEL_EXPORTER_OTLP_PROTOCOL` / `..._TRACES_PROTOCOL` | `http/protobuf`, `http/json` or `grpc` | `http/protobuf` |
//! | `OTEL_EXPORTER_OTLP_HEADERS` / `..._TRACES_HEADERS` | `k=v,k=v` (values URL-decoded) | none |
//! | `OTEL_EXPORTER_OTLP_TIMEOUT` / `..._TRACES_TIMEOUT` | milliseconds per export | 10000 |
//! | `OTEL_EXPORTER_OTLP_COMPRESSION` / `..._TRACES_COMPRESSION` | `gzip` or `none` | `none` |
//! | `OTEL_EXPORTER_OTLP_CERTIFICATE` | CA file for an `https` endpoint | – (required for https) |
//! | `OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE`, `..._CLIENT_KEY` | client certificate and key | none |
//! | `OTEL_SERVICE_NAME` | `service.name` | `unknown_service:<program>` |
//! | `OTEL_RESOURCE_ATTRIBUTES` | `k=v,k=v` resource attributes | none |
//! | `OTEL_TRACES_SAMPLER`, `OTEL_TRACES_SAMPLER_ARG` | `always_on`, `always_off`, `traceidratio`, `parentbased_*` | `parentbased_always_on` |
//! | `OTEL_BSP_SCHEDULE_DELAY` | milliseconds between exports | 5000 |
//! | `OTEL_BSP_MAX_QUEUE_SIZE`, `OTEL_BSP_MAX_EXPORT_BATCH_SIZE` | spans (the queue size per stripe, see [`BatchSettings`]) | 2048, 512 |
//! | `OTEL_METRICS_EXPORTER` | `otlp` (push the metrics), `prometheus` or `none` (the admin endpoint only) | `none` |
//! | `OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE` | `cumulative`, `delta` (histograms and counters since the last export), `lowmemory` (histograms only) | `cumulative` |
//! | `OTEL_METRIC_EXPORT_INTERVAL`, `OTEL_METRIC_EXPORT_TIMEOUT` | milliseconds between metrics exports, most time one may take | 60000, the OTLP timeout |
//! | `OTEL_EXPORTER_OTLP_METRICS_*` | as the `TRACES` ones, for metrics (`/v1/metrics` added to the shared endpoint) | the shared ones |
//! | `OTEL_LOGS_EXPORTER` | `otlp` (the program's log lines, as its log filter passes them, also sent over OTLP) or `none` | `none` |
//! | `OTEL_BLRP_SCHEDULE_DELAY`, `OTEL_BLRP_MAX_QUEUE_SIZE`, `OTEL_BLRP_MAX_EXPORT_BATCH_SIZE` | ms between logs exports, records queued (more are dropped and counted), records per request | 1000, 2048, 512 |
//! | `OTEL_EXPORTER_OTLP_LOGS_*` | as the `TRACES` ones, for logs (`/v1/logs` added to the shared endpoint) | the shared ones |
//! | `OTEL_PROPAGATORS` | `tracecontext`, `baggage`, `b3`, `b3multi` (comma-separated, in order) or `none`: the formats every wire writes and reads ([`Propagators`]) | `tracecontext,baggage` |
//!
//! A value that cannot be read is an error naming the variable (the program says so and goes
//! on without tracing rather than guess).

use crate::otlp::{OtlpProtocol, OtlpTarget};
use crate::otlp_metrics::Temporality;
use crate::pipeline::BatchSettings;
use crate::span::AttrValue;
use crate::tracing_span::{RootRule, Sampler};
use std::time::Duration;
use tether_core::trace::baggage::percent_decode;
use tether_core::trace::Propagators;

/// Where spans go, as the environment asks.
#[derive(Clone, Debug, Default)]
pub struct TraceSettings {
    /// The OTLP endpoint, when spans are exported over OTLP.
    pub otlp: Option<OtlpTarget>,
    /// Whether spans are also printed on stderr.
    pub console: bool,
    /// The resource attributes (`service.name`, ...).
    pub resource: Vec<(String, AttrValue)>,
    /// Which traces are recorded.
    pub sampler: Sampler,
    /// Batching.
    pub batch: BatchSettings,
    /// The formats a call's trace and baggage travel in. Default `tracecontext,baggage`.
    pub propagators: Propagators,
    /// Where and how often metrics are pushed over OTLP (`OTEL_METRICS_EXPORTER=otlp`).
    /// Default `None`: metrics are only served on the admin endpoint.
    pub metrics: Option<MetricsSettings>,
    /// Where the program's logs are sent over OTLP (`OTEL_LOGS_EXPORTER=otlp`). Default `None`:
    /// logs go to stderr only.
    pub logs: Option<LogsSettings>,
    /// What the environment asks for that tether does not do and that is not worth turning
    /// tracing off for (`OTEL_LOGS_EXPORTER=otlp`), one sentence each, for the program to say.
    pub unsupported: Vec<String>,
}

/// OTLP logs export, as the environment asks.
#[derive(Clone, Debug)]
pub struct LogsSettings {
    /// The collector.
    pub target: OtlpTarget,
    /// Time between exports (`OTEL_BLRP_SCHEDULE_DELAY`). Default 1 s.
    pub delay: Duration,
    /// Most records queued (`OTEL_BLRP_MAX_QUEUE_SIZE`); more are dropped and counted.
    /// Default 2048.
    pub max_queue: usize,
    /// Most records in one request (`OTEL_BLRP_MAX_EXPORT_BATCH_SIZE`). Default 512.
    pub max_batch: usize,
}

/// OTLP metrics export, as the environment asks.
#[derive(Clone, Debug)]
pub struct MetricsSettings {
    /// The collector.
    pub target: OtlpTarget,
    /// Time between exports (`OTEL_METRIC_EXPORT_INTERVAL`). Default 60 s.
    pub interval: Duration,
    /// Cumulative or delta (`OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE`). Default
    /// cumulative.
    pub temporality: Temporality,
}

impl TraceSettings {
    /// Whether anything is exported.
    pub fn enabled(&self) -> bool {
        self.otlp.is_some() || self.console
    }
}

fn var(get: &dyn Fn(&str) -> Option<String>, name: &str) -> Option<String> {
    get(name)
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

fn millis(get: &dyn Fn(&str) -> Option<String>, name: &str) -> Result<Option<Duration>, String> {
    var(get, name)
        .map(|v| {
            v.parse::<u64>()
                .map(Duration::from_millis)
                .map_err(|_| format!("{name}={v:?} is not a whole number of milliseconds"))
        })
        .transpose()
}

fn count(get: &dyn Fn(&str) -> Option<String>, name: &str) -> Result<Option<usize>, String> {
    var(get, name)
        .map(|v| {
            v.parse::<usize>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| format!("{name}={v:?} is not a positive whole number"))
        })
        .transpose()
}

fn pairs(text: &str) -> Vec<(String, String)> {
    text.split(',')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (percent_decode(k.trim()), percent_decode(v.trim())))
        .filter(|(k, _)| !k.is_empty())
        .collect()
}

/// The OTLP target of `signal` (`TRACES` or `METRICS`): its own variables first, then the
/// shared ones; `path` (`/v1/traces`, `/v1/metrics`) is added to the shared HTTP endpoint.
fn otlp_target(
    get: &dyn Fn(&str) -> Option<String>,
    signal: &str,
    path: &str,
) -> Result<OtlpTarget, String> {
    let protocol = var(get, &format!("OTEL_EXPORTER_OTLP_{signal}_PROTOCOL"))
        .or_else(|| var(get, "OTEL_EXPORTER_OTLP_PROTOCOL"))
        .unwrap_or_else(|| "http/protobuf".into());
    let protocol = match protocol.as_str() {
        "http/protobuf" => OtlpProtocol::HttpProtobuf,
        "http/json" => OtlpProtocol::HttpJson,
        "grpc" => OtlpProtocol::Grpc,
        _ => {
            return Err(format!(
                "OTEL_EXPORTER_OTLP_PROTOCOL={protocol:?} is not supported (http/protobuf, \
                 http/json or grpc)"
            ))
        }
    };
    let url = match var(get, &format!("OTEL_EXPORTER_OTLP_{signal}_ENDPOINT")) {
        Some(u) => u,
        // gRPC names its method itself: the endpoint is the collector's address.
        None if protocol == OtlpProtocol::Grpc => var(get, "OTEL_EXPORTER_OTLP_ENDPOINT")
            .unwrap_or_else(|| "http://localhost:4317".into()),
        None => {
            let base = var(get, "OTEL_EXPORTER_OTLP_ENDPOINT")
                .unwrap_or_else(|| "http://localhost:4318".into());
            format!("{}{path}", base.trim_end_matches('/'))
        }
    };
    let headers = var(get, &format!("OTEL_EXPORTER_OTLP_{signal}_HEADERS"))
        .or_else(|| var(get, "OTEL_EXPORTER_OTLP_HEADERS"))
        .map(|h| pairs(&h))
        .unwrap_or_default();
    let timeout = millis(get, &format!("OTEL_EXPORTER_OTLP_{signal}_TIMEOUT"))?
        .or(millis(get, "OTEL_EXPORTER_OTLP_TIMEOUT")?)
        .unwrap_or(Duration::from_secs(10));
    let tls = if url.starts_with("https://") {
        let ca = var(get, &format!("OTEL_EXPORTER_OTLP_{signal}_CERTIFICATE"))
            .or_else(|| var(get, "OTEL_EXPORTER_OTLP_CERTIFICATE"))
            .ok_or_else(|| {
                format!(
                    "{url} is https: set OTEL_EXPORTER_OTLP_CERTIFICATE to the CA file \
                     (tether does not fall back to the system store)"
                )
            })?;
        let mut t = tether_tls::ClientTlsSettings::new(ca);
        let cert = var(
            get,
            &format!("OTEL_EXPORTER_OTLP_{signal}_CLIENT_CERTIFICATE"),
        )
        .or_else(|| var(get, "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE"));
        let key = var(get, &format!("OTEL_EXPORTER_OTLP_{signal}_CLIENT_KEY"))
            .or_else(|| var(get, "OTEL_EXPORTER_OTLP_CLIENT_KEY"));
        if let Some(c) = cert {
            let k = key.unwrap_or_else(|| c.clone());
            t = t.client_cert(c, k);
        }
        Some(t)
    } else if url.starts_with("http://") {
        None
    } else {
        return Err(format!("the OTLP endpoint {url:?} is not an http(s) URL"));
    };
    let gzip = match var(get, &format!("OTEL_EXPORTER_OTLP_{signal}_COMPRESSION"))
        .or_else(|| var(get, "OTEL_EXPORTER_OTLP_COMPRESSION"))
        .as_deref()
    {
        None | Some("none") => false,
        Some("gzip") => true,
        Some(other) => {
            return Err(format!(
                "OTEL_EXPORTER_OTLP_COMPRESSION={other:?} is not supported (gzip or none)"
            ))
        }
    };
    Ok(OtlpTarget {
        url,
        headers,
        timeout,
        tls,
        protocol,
        gzip,
    })
}

/// Reads the settings through `get` (the process environment: [`TraceSettings::from_env`]).
pub fn read(get: &dyn Fn(&str) -> Option<String>, program: &str) -> Result<TraceSettings, String> {
    let mut s = TraceSettings::default();
    // Read first: a process that exports nothing still passes its callers' context on.
    if let Some(p) = var(get, "OTEL_PROPAGATORS") {
        s.propagators = Propagators::parse(&p)?;
    }
    match var(get, "OTEL_LOGS_EXPORTER").as_deref() {
        None | Some("none") => {}
        Some("otlp") => {
            let max_queue = count(get, "OTEL_BLRP_MAX_QUEUE_SIZE")?.unwrap_or(2048);
            s.logs = Some(LogsSettings {
                target: otlp_target(get, "LOGS", "/v1/logs")?,
                delay: millis(get, "OTEL_BLRP_SCHEDULE_DELAY")?
                    .filter(|d| !d.is_zero())
                    .unwrap_or(Duration::from_secs(1)),
                max_queue,
                max_batch: count(get, "OTEL_BLRP_MAX_EXPORT_BATCH_SIZE")?
                    .unwrap_or(512)
                    .min(max_queue),
            });
        }
        Some(other) => s.unsupported.push(format!(
            "OTEL_LOGS_EXPORTER={other:?} is not supported (otlp or none): logs go to stderr only"
        )),
    }
    if var(get, "OTEL_SDK_DISABLED").is_some_and(|v| v.eq_ignore_ascii_case("true")) {
        return Ok(s);
    }
    let endpoint_set = var(get, "OTEL_EXPORTER_OTLP_ENDPOINT").is_some()
        || var(get, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT").is_some();
    let exporters = var(get, "OTEL_TRACES_EXPORTER")
        .unwrap_or_else(|| if endpoint_set { "otlp" } else { "none" }.into());
    let mut otlp = false;
    for e in exporters.split(',').map(str::trim) {
        match e {
            "otlp" => otlp = true,
            "console" | "logging" => s.console = true,
            "none" | "" => {}
            other => {
                return Err(format!(
                    "OTEL_TRACES_EXPORTER={other:?} is not supported (otlp, console or none)"
                ))
            }
        }
    }
    if otlp {
        s.otlp = Some(otlp_target(get, "TRACES", "/v1/traces")?);
    }
    s.metrics = match var(get, "OTEL_METRICS_EXPORTER").as_deref() {
        None | Some("none") | Some("prometheus") => None,
        Some("otlp") => {
            let mut target = otlp_target(get, "METRICS", "/v1/metrics")?;
            if let Some(t) = millis(get, "OTEL_METRIC_EXPORT_TIMEOUT")? {
                target.timeout = target.timeout.min(t);
            }
            let interval = millis(get, "OTEL_METRIC_EXPORT_INTERVAL")?
                .filter(|d| !d.is_zero())
                .unwrap_or(Duration::from_secs(60));
            let var_name = "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE";
            let temporality = match var(get, var_name) {
                None => Temporality::Cumulative,
                Some(t) => Temporality::parse(&t).ok_or_else(|| {
                    format!("{var_name}={t:?} is not supported (cumulative, delta or lowmemory)")
                })?,
            };
            Some(MetricsSettings {
                target,
                interval,
                temporality,
            })
        }
        Some(other) => {
            return Err(format!(
                "OTEL_METRICS_EXPORTER={other:?} is not supported (otlp, prometheus or none)"
            ))
        }
    };
    let mut resource: Vec<(String, String)> = var(get, "OTEL_RESOURCE_ATTRIBUTES")
        .map(|r| pairs(&r))
        .unwrap_or_default();
    let name = var(get, "OTEL_SERVICE_NAME")
        .or_else(|| {
            resource
                .iter()
                .find(|(k, _)| k == "service.name")
                .map(|(_, v)| v.clone())
        })
        .unwrap_or_else(|| format!("unknown_service:{program}"));
    resource.retain(|(k, _)| k != "service.name");
    s.resource = std::iter::once(("service.name".to_string(), name))
        .chain(resource)
        .chain([
            ("telemetry.sdk.name".to_string(), "tether".to_string()),
            ("telemetry.sdk.language".to_string(), "rust".to_string()),
            (
                "telemetry.sdk.version".to_string(),
                env!("CARGO_PKG_VERSION").to_string(),
            ),
        ])
        .map(|(k, v)| (k, AttrValue::Str(v)))
        .collect();
    let arg = var(get, "OTEL_TRACES_SAMPLER_ARG");
    let ratio = || -> Result<f64, String> {
        match &arg {
            None => Ok(1.0),
            Some(a) => a
                .parse::<f64>()
                .ok()
                .filter(|r| (0.0..=1.0).contains(r))
                .ok_or_else(|| format!("OTEL_TRACES_SAMPLER_ARG={a:?} is not a ratio from 0 to 1")),
        }
    };
    s.sampler = match var(get, "OTEL_TRACES_SAMPLER").as_deref() {
        None | Some("parentbased_always_on") => Sampler::ParentBased(RootRule::AlwaysOn),
        Some("always_on") => Sampler::AlwaysOn,
        Some("always_off") => Sampler::AlwaysOff,
        Some("traceidratio") => Sampler::Ratio(ratio()?),
        Some("parentbased_always_off") => Sampler::ParentBased(RootRule::AlwaysOff),
        Some("parentbased_traceidratio") => Sampler::ParentBased(RootRule::Ratio(ratio()?)),
        Some(other) => return Err(format!("OTEL_TRACES_SAMPLER={other:?} is not supported")),
    };
    if let Some(d) = millis(get, "OTEL_BSP_SCHEDULE_DELAY")? {
        s.batch.schedule_delay = d;
    }
    if let Some(n) = count(get, "OTEL_BSP_MAX_QUEUE_SIZE")? {
        s.batch.max_queue = n;
    }
    if let Some(n) = count(get, "OTEL_BSP_MAX_EXPORT_BATCH_SIZE")? {
        s.batch.max_batch = n.min(s.batch.max_queue);
    }
    Ok(s)
}

impl TraceSettings {
    /// Reads the process environment.
    pub fn from_env(program: &str) -> Result<TraceSettings, String> {
        read(&|k| std::env::var(k).ok(), program)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn with(vars: &[(&str, &str)]) -> Result<TraceSettings, String> {
        let m: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        read(&move |k| m.get(k).cloned(), "prog")
    }

    #[test]
    fn nothing_set_exports_nothing() {
        let s = with(&[]).unwrap_or_default();
        assert!(!s.enabled());
    }

    /// `OTEL_PROPAGATORS` is read even when nothing is exported (a process passes its callers'
    /// context on), in its order; an unknown format is an error that names the variable.
    #[test]
    fn propagators_follow_otel_propagators() {
        let s = with(&[]).expect("valid");
        assert_eq!(s.propagators.to_string(), "tracecontext,baggage");
        let s = with(&[("OTEL_PROPAGATORS", "b3multi,baggage")]).expect("valid");
        assert!(!s.enabled());
        assert_eq!(s.propagators.to_string(), "b3multi,baggage");
        let s = with(&[("OTEL_PROPAGATORS", "none"), ("OTEL_SDK_DISABLED", "true")]);
        assert_eq!(s.map(|s| s.propagators), Ok(Propagators::NONE));
        let e = with(&[("OTEL_PROPAGATORS", "tracecontext,jaeger")]).expect_err("jaeger");
        assert!(
            e.contains("OTEL_PROPAGATORS") && e.contains("jaeger"),
            "{e}"
        );
    }

    /// `OTEL_METRICS_EXPORTER=otlp` reads the metrics' own variables before the shared ones,
    /// adds `/v1/metrics` to the shared endpoint, and an unknown exporter is named.
    #[test]
    fn metrics_export_follows_its_variables() {
        let s = with(&[
            ("OTEL_METRICS_EXPORTER", "otlp"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318/"),
            ("OTEL_EXPORTER_OTLP_METRICS_PROTOCOL", "http/json"),
            ("OTEL_METRIC_EXPORT_INTERVAL", "250"),
            ("OTEL_METRIC_EXPORT_TIMEOUT", "2000"),
            ("OTEL_TRACES_EXPORTER", "none"),
        ])
        .expect("valid");
        assert!(!s.enabled(), "no spans asked for");
        let m = s.metrics.expect("metrics");
        assert_eq!(m.target.url, "http://collector:4318/v1/metrics");
        assert_eq!(m.target.protocol, OtlpProtocol::HttpJson);
        assert_eq!(m.interval, Duration::from_millis(250));
        assert_eq!(m.target.timeout, Duration::from_secs(2));
        let s = with(&[("OTEL_METRICS_EXPORTER", "prometheus")]).expect("valid");
        assert!(s.metrics.is_none());
        let s = with(&[
            ("OTEL_LOGS_EXPORTER", "otlp"),
            ("OTEL_BLRP_SCHEDULE_DELAY", "50"),
        ])
        .expect("valid");
        let l = s.logs.expect("logs");
        assert_eq!(l.target.url, "http://localhost:4318/v1/logs");
        assert_eq!((l.delay, l.max_queue), (Duration::from_millis(50), 2048));
        let s = with(&[("OTEL_LOGS_EXPORTER", "console")]).expect("valid");
        assert!(
            s.unsupported[0].contains("OTEL_LOGS_EXPORTER"),
            "{:?}",
            s.unsupported
        );
        let e = with(&[("OTEL_METRICS_EXPORTER", "statsd")]).expect_err("statsd");
        assert!(
            e.contains("OTEL_METRICS_EXPORTER") && e.contains("statsd"),
            "{e}"
        );
    }

    /// A `%` before a non-ASCII character is kept, not a panic (it used to slice inside it).
    #[test]
    fn headers_with_a_stray_percent_are_read() {
        let s = with(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318"),
            ("OTEL_EXPORTER_OTLP_HEADERS", "a=%aé,b=%41"),
        ])
        .expect("valid");
        let h = s.otlp.expect("otlp").headers;
        assert_eq!(
            h,
            vec![("a".into(), "%aé".into()), ("b".into(), "A".into())]
        );
    }

    #[test]
    fn an_endpoint_turns_otlp_on() {
        let s = with(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318/"),
            ("OTEL_SERVICE_NAME", "svc"),
            ("OTEL_EXPORTER_OTLP_HEADERS", "a=b%20c,x=y"),
            ("OTEL_BSP_SCHEDULE_DELAY", "100"),
        ])
        .expect("valid");
        let o = s.otlp.expect("otlp");
        assert_eq!(o.url, "http://127.0.0.1:4318/v1/traces");
        assert_eq!(o.headers[0], ("a".into(), "b c".into()));
        assert_eq!(s.batch.schedule_delay, Duration::from_millis(100));
        assert_eq!(s.resource[0].1, AttrValue::Str("svc".into()));
    }

    /// gRPC takes the endpoint as the collector's address (no `/v1/traces`), 4317 by default.
    #[test]
    fn grpc_endpoints_are_the_collectors_address() {
        for (vars, url, protocol) in [
            (
                [
                    ("OTEL_TRACES_EXPORTER", "otlp"),
                    ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
                ],
                "http://localhost:4317",
                OtlpProtocol::Grpc,
            ),
            (
                [
                    ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4317"),
                    ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "grpc"),
                ],
                "http://collector:4317",
                OtlpProtocol::Grpc,
            ),
            (
                [
                    ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318"),
                    ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"),
                ],
                "http://collector:4318/v1/traces",
                OtlpProtocol::HttpJson,
            ),
        ] {
            let o = with(&vars).expect("valid").otlp.expect("otlp");
            assert_eq!((o.url.as_str(), o.protocol), (url, protocol), "{vars:?}");
        }
    }

    #[test]
    fn bad_values_name_their_variable() {
        for (k, v) in [
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "thrift"),
            ("OTEL_EXPORTER_OTLP_COMPRESSION", "zstd"),
            ("OTEL_BSP_SCHEDULE_DELAY", "soon"),
            ("OTEL_TRACES_SAMPLER", "sometimes"),
            ("OTEL_TRACES_EXPORTER", "zipkin"),
        ] {
            let e = with(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://h:1"), (k, v)])
                .err()
                .unwrap_or_default();
            assert!(e.contains(k), "{e}");
        }
        let e = with(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "https://h:1")])
            .err()
            .unwrap_or_default();
        assert!(e.contains("OTEL_EXPORTER_OTLP_CERTIFICATE"), "{e}");
    }
}
