//! Test doubles, compiled only for tests and with the `testing` feature (the dev server's
//! fault injection): in-memory ports as atomic as the real ones (`memory`), and `Faulty`,
//! which makes any port fail the calls a plan picks (`faults`). Production binaries never
//! build them.

pub mod faults;
pub mod memory;

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
