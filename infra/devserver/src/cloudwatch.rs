//! The local stack's CloudWatch, read side: the monitoring routes read the datapoints the
//! dev server extracted from every function's EMF lines (`metrics.rs`), through the same
//! `MetricsReader` port the CloudWatch adapter implements in AWS. No alarms exist locally.

use std::sync::Arc;

use callbook_core::testing::memory::RecordedMetrics;
use callbook_core::{AlarmStatus, MetricsReader, PortError, Series, SeriesQuery};
use chrono::{DateTime, Duration, Utc};

/// The one store every function's `DevMetrics` sink records into.
#[derive(Clone)]
pub struct RecordedReader(pub Arc<RecordedMetrics>);

impl MetricsReader for RecordedReader {
    async fn series(
        &self,
        queries: &[SeriesQuery],
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        period: Duration,
    ) -> Result<Vec<Series>, PortError> {
        self.0.series(queries, from, to, period).await
    }

    async fn alarms(&self) -> Result<Vec<AlarmStatus>, PortError> {
        self.0.alarms().await
    }
}
