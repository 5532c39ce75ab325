//! CloudWatch's side of the metrics, emulated: every function prints its EMF lines to stdout
//! as in Lambda, and the dev server also reads each line back as CloudWatch Logs' extraction
//! would (`read_emf`), into the store the local monitoring routes read.

use std::sync::Arc;

use callbook_aws::metrics::{EmfLog, LineWriter, Stdout};
use callbook_core::read_emf;
use callbook_core::testing::memory::RecordedMetrics;

/// Prints a line, and records its datapoints.
#[derive(Clone)]
pub struct Extracted {
    recorded: Arc<RecordedMetrics>,
}

impl LineWriter for Extracted {
    fn write_line(&self, line: &str) {
        Stdout.write_line(line);
        match read_emf(line) {
            Ok(points) => self.recorded.record(points),
            // CloudWatch would drop it silently; here it is a bug worth seeing.
            Err(e) => eprintln!("callbook-dev: an invalid EMF line ({e}): {line}"),
        }
    }
}

/// Every function's `MetricsSink` in the local stack.
pub type DevMetrics = EmfLog<Extracted>;

/// The sink for one function, in the deployment's namespace, recording into `recorded`.
pub fn dev_metrics(namespace: String, recorded: &Arc<RecordedMetrics>) -> DevMetrics {
    EmfLog::new(
        namespace,
        Extracted {
            recorded: Arc::clone(recorded),
        },
    )
}
