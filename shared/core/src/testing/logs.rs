//! A test's own log lines. One global subscriber per test binary writes each thread's lines
//! to that thread's capture, if it has one: with a per-thread subscriber (`set_default`), a
//! callsite first reached by another test's thread (with none) could be cached as disabled
//! for every thread, and a line or a span's fields went missing at random.

use std::cell::RefCell;
use std::sync::Once;

use super::CapturedLines;

thread_local! {
    static CAPTURING: RefCell<Option<CapturedLines>> = const { RefCell::new(None) };
}

/// The writer the global subscriber is given: this thread's capture, else nowhere.
pub struct ThisThread;

impl std::io::Write for ThisThread {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        CAPTURING.with(|c| match c.borrow().clone() {
            Some(mut out) => out.write(buf),
            None => Ok(buf.len()),
        })
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Stops capturing when dropped (the test's end).
pub struct Capturing;

impl Drop for Capturing {
    fn drop(&mut self) {
        CAPTURING.with(|c| *c.borrow_mut() = None);
    }
}

/// Captures this thread's log lines until the guard drops. `subscriber` makes the binary's
/// global subscriber (the first call installs it), writing to `ThisThread`:
/// `capture_lines(|| json_lines("info", || ThisThread))`.
pub fn capture_lines<S>(subscriber: impl FnOnce() -> S) -> (CapturedLines, Capturing)
where
    S: tracing::Subscriber + Send + Sync + 'static,
{
    static GLOBAL: Once = Once::new();
    GLOBAL.call_once(|| {
        let _ = tracing::subscriber::set_global_default(subscriber());
    });
    let out = CapturedLines::default();
    CAPTURING.with(|c| *c.borrow_mut() = Some(out.clone()));
    (out, Capturing)
}
