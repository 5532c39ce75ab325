//! Test doubles, compiled only for tests and with the `testing` feature (the dev server's
//! fault injection): in-memory ports as atomic as the real ones (`memory`), and `Faulty`,
//! which makes any port fail the calls a plan picks (`faults`). Production binaries never
//! build them.

pub mod faults;
pub mod logs;
pub mod memory;

/// What a test's log subscriber wrote (`callbook_aws::telemetry::json_lines` with
/// `move || captured.clone()`): the clones share one buffer.
#[derive(Clone, Default)]
pub struct CapturedLines(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl CapturedLines {
    /// Everything written so far, as text.
    pub fn text(&self) -> String {
        let bytes = self.0.lock().map(|b| b.clone()).unwrap_or_default();
        String::from_utf8_lossy(&bytes).into_owned()
    }

    /// Every line written so far, each a JSON object (a line that is not one fails the test).
    pub fn lines(&self) -> Vec<serde_json::Map<String, serde_json::Value>> {
        self.text()
            .lines()
            .map(|line| match serde_json::from_str(line) {
                Ok(serde_json::Value::Object(fields)) => fields,
                _ => panic!("not a JSON object: {line}"),
            })
            .collect()
    }
}

impl std::io::Write for CapturedLines {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut bytes) = self.0.lock() {
            bytes.extend_from_slice(buf);
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The sample events in `events/` of one function, by file-name prefix (`"booking-worker-"`):
/// (file name, text), in name order. None is an error, so a renamed sample is not skipped.
pub fn sample_events(prefix: &str) -> Vec<(String, String)> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../events");
    let mut samples: Vec<(String, String)> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{dir}: {e}"))
        .filter_map(Result::ok)
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with(prefix) && name.ends_with(".json"))
        .map(|name| {
            let text = std::fs::read_to_string(format!("{dir}/{name}"))
                .unwrap_or_else(|e| panic!("events/{name}: {e}"));
            (name, text)
        })
        .collect();
    samples.sort();
    assert!(!samples.is_empty(), "no {prefix}* samples in events/");
    samples
}
