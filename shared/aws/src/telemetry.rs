//! Logging: flat JSON lines in Lambda (CloudWatch Logs Insights reads them), compact text
//! locally.
//!
//! Each JSON line carries the fields of every span it was logged in, merged with its own:
//! the request's business and call id, the tool call's id and booking reference, a queue
//! message's id and its job's ids. tracing-subscriber's JSON formatter prints either the
//! innermost span (`with_current_span`) or every span as a list of objects
//! (`with_span_list`); flat keys are shorter and let Insights filter on them directly
//! (`filter call_id = "…"`, across the webhook and the workers).

use std::fmt;

use serde_json::{Map, Value};
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::{JsonFields, Writer};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, FormattedFields, MakeWriter};
use tracing_subscriber::registry::LookupSpan;

pub fn init_tracing() {
    let directives = std::env::var("RUST_LOG").unwrap_or_else(|_| "info".into());
    let _ = if std::env::var_os("AWS_LAMBDA_FUNCTION_NAME").is_some() {
        tracing::subscriber::set_global_default(json_lines(&directives, std::io::stdout))
    } else {
        let filter = EnvFilter::try_new(&directives).unwrap_or_else(|_| EnvFilter::new("info"));
        tracing::subscriber::set_global_default(
            tracing_subscriber::fmt()
                .with_env_filter(filter)
                .with_target(false)
                .compact()
                .finish(),
        )
    };
}

/// The Lambda subscriber: one flat JSON object per line (`FlatJson`) to `writer`, at the
/// levels `directives` names (`RUST_LOG`'s syntax; "info" when they do not read). Tests
/// install it with a buffer (`move || captured.clone()`) to read what a run logs.
pub fn json_lines<W>(directives: &str, writer: W) -> impl Subscriber + Send + Sync + 'static
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let filter = EnvFilter::try_new(directives).unwrap_or_else(|_| EnvFilter::new("info"));
    // Lambda adds its own timestamps; ANSI colours would garble CloudWatch.
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .fmt_fields(JsonFields::new())
        .event_format(FlatJson)
        .with_writer(writer)
        .finish()
}

/// `{"level":…,"message":…, <the spans' fields, outermost first>, <the event's fields>}`;
/// a field named again further in wins.
pub struct FlatJson;

impl<S, N> FormatEvent<S, N> for FlatJson
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'w> FormatFields<'w> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let mut line = Map::new();
        line.insert(
            "level".into(),
            Value::String(event.metadata().level().to_string()),
        );
        if let Some(scope) = ctx.event_scope() {
            for span in scope.from_root() {
                let extensions = span.extensions();
                // The spans' fields, as `JsonFields` keeps them: a JSON object's text.
                let Some(fields) = extensions.get::<FormattedFields<N>>() else {
                    continue;
                };
                if let Ok(Value::Object(fields)) = serde_json::from_str::<Value>(fields) {
                    line.extend(fields);
                }
            }
        }
        event.record(&mut Fields(&mut line));
        writeln!(writer, "{}", Value::Object(line))
    }
}

/// An event's fields into the line's object.
struct Fields<'a>(&'a mut Map<String, Value>);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0
            .insert(field.name().into(), Value::String(format!("{value:?}")));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.0
            .insert(field.name().into(), Value::String(value.into()));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(field.name().into(), value.into());
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().into(), value.into());
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.0.insert(field.name().into(), value.into());
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(field.name().into(), value.into());
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.0
            .insert(field.name().into(), Value::String(value.to_string()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use callbook_core::testing::CapturedLines;
    use tracing::{Span, field::Empty, info, info_span, warn};

    #[test]
    fn each_line_carries_the_fields_of_every_span_it_was_logged_in() {
        let out = CapturedLines::default();
        let writer = out.clone();
        let subscriber = json_lines("info", move || writer.clone());
        tracing::subscriber::with_default(subscriber, || {
            let request = info_span!("request", business = Empty, call_id = "call-1");
            let _request = request.enter();
            info!("before the business is known");
            Span::current().record("business", "b1");
            let tool = info_span!("tool_call", tool_call_id = "tc-1", reference = Empty);
            let _tool = tool.enter();
            tool.record("reference", "ABC234");
            warn!(tries = 2, ok = false, "inside the tool call");
        });
        let lines = out.lines();
        assert_eq!(lines.len(), 2, "{}", out.text());
        assert_eq!(lines[0]["message"], "before the business is known");
        assert_eq!(lines[0]["call_id"], "call-1");
        assert!(!lines[0].contains_key("business"));
        let line = &lines[1];
        assert_eq!(line["level"], "WARN");
        assert_eq!(line["message"], "inside the tool call");
        assert_eq!(line["business"], "b1");
        assert_eq!(line["call_id"], "call-1");
        assert_eq!(line["tool_call_id"], "tc-1");
        assert_eq!(line["reference"], "ABC234");
        assert_eq!(line["tries"], 2);
        assert_eq!(line["ok"], false);
    }
}
