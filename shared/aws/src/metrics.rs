//! The `MetricsSink` of every function: CloudWatch Embedded Metric Format lines on stdout,
//! which CloudWatch Logs extracts into metrics (no API call, no client, nothing at init).

use std::io::Write;

use callbook_core::{Measurement, MetricsSink, emf_lines};

/// The namespace when `METRICS_NAMESPACE` is not set (the template sets one per stack).
pub const DEFAULT_NAMESPACE: &str = "callbook";

/// Where the lines go: stdout in Lambda; the dev server adds its own reader.
pub trait LineWriter: Send + Sync {
    fn write_line(&self, line: &str);
}

#[derive(Debug, Default, Clone, Copy)]
pub struct Stdout;

impl LineWriter for Stdout {
    fn write_line(&self, line: &str) {
        // One locked write per line, so lines from concurrent requests never interleave.
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{line}");
    }
}

/// Measurements as EMF lines, timestamped when emitted.
#[derive(Debug, Clone)]
pub struct EmfLog<W: LineWriter = Stdout> {
    namespace: String,
    out: W,
}

impl EmfLog<Stdout> {
    /// To stdout, in the namespace `METRICS_NAMESPACE` names.
    pub fn from_lookup(lookup: &impl Fn(&str) -> Option<String>) -> Self {
        Self::new(namespace_from(lookup), Stdout)
    }
}

pub fn namespace_from(lookup: &impl Fn(&str) -> Option<String>) -> String {
    lookup("METRICS_NAMESPACE")
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| DEFAULT_NAMESPACE.to_string())
}

impl<W: LineWriter> EmfLog<W> {
    pub fn new(namespace: String, out: W) -> Self {
        Self { namespace, out }
    }

    pub fn namespace(&self) -> &str {
        &self.namespace
    }
}

impl<W: LineWriter> MetricsSink for EmfLog<W> {
    fn emit(&self, function: &str, measurements: &[Measurement]) {
        if measurements.is_empty() {
            return;
        }
        let now = chrono::Utc::now().timestamp_millis();
        for line in emf_lines(&self.namespace, function, now, measurements) {
            self.out.write_line(&line);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use callbook_core::{Dimension, Metric, read_emf};

    use super::*;

    #[derive(Default)]
    struct Lines(Mutex<Vec<String>>);

    impl LineWriter for &Lines {
        fn write_line(&self, line: &str) {
            self.0.lock().unwrap().push(line.to_string());
        }
    }

    #[test]
    fn measurements_become_emf_lines_in_the_configured_namespace() {
        let lines = Lines::default();
        let log = EmfLog::new(
            namespace_from(&|k| (k == "METRICS_NAMESPACE").then(|| "callbook/prod".to_string())),
            &lines,
        );
        log.emit("booking-worker", &[]);
        assert!(
            lines.0.lock().unwrap().is_empty(),
            "nothing to say, no line"
        );
        log.emit(
            "booking-worker",
            &[Measurement::new(Metric::JobAge, 40.0).by(Dimension::Queue, "booking")],
        );
        let written = lines.0.lock().unwrap().clone();
        assert_eq!(written.len(), 1);
        let points = read_emf(&written[0]).unwrap();
        assert!(
            points
                .iter()
                .all(|p| p.namespace == "callbook/prod" && p.value == 40.0)
        );
        assert_eq!(namespace_from(&|_| None), DEFAULT_NAMESPACE);
    }
}
