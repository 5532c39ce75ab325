//! Running a job once, Powertools-style, on an `IdempotencyStore`: claim the job's key with the
//! hash of what makes it that job; a completed key is skipped, a key claimed by another
//! delivery is retried later, a key reused for another payload is refused; the work's failure
//! gives the claim up so the redelivery can run it.

use std::future::Future;

use chrono::Duration;
use thiserror::Error;

use crate::ports::{Claim, Clock, IdempotencyStore, PortError};

#[derive(Debug, Error)]
pub enum OnceError<E> {
    #[error("another delivery of this job is running; it will be retried")]
    InProgress,
    #[error("this job id was used before with other content: not run")]
    Mismatch,
    #[error("the idempotency store failed: {0}")]
    Store(PortError),
    #[error(transparent)]
    Work(E),
}

/// What happened to the job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ran {
    /// Run now; the result is stored.
    Now(String),
    /// Run before; its stored result.
    Before(String),
}

/// How long a job's claim and its record are kept.
#[derive(Debug, Clone, Copy)]
pub struct OncePolicy {
    /// A delivery that dies holding the claim blocks others this long (about the function's
    /// timeout, and shorter than the queue's visibility timeout so the redelivery may run).
    pub claim_for: Duration,
    /// How long a completed job is remembered (longer than any redelivery or retry).
    pub keep_for: Duration,
}

/// For a queue job: claimed for twice the functions' 30 s timeout, well inside the queues'
/// 180 s visibility timeout, so a delivery that died holding the claim is retried by the next
/// one; a done job is remembered past SQS's 14-day retention.
pub const QUEUE_JOB: OncePolicy = OncePolicy {
    claim_for: Duration::seconds(60),
    keep_for: Duration::days(15),
};

/// Runs `work` once for `key`. A result that cannot be recorded is tried three times, then
/// reported as a store failure: the job comes back, and the claim, once expired, lets it run
/// again (so the work itself must tolerate a repeat, as conditional writes do).
pub async fn run_once<I, C, E, F, Fut>(
    store: &I,
    clock: &C,
    policy: OncePolicy,
    key: &str,
    payload_hash: &str,
    work: F,
) -> Result<Ran, OnceError<E>>
where
    I: IdempotencyStore,
    C: Clock,
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<String, E>>,
{
    match store
        .claim(key, payload_hash, clock.now(), policy.claim_for)
        .await
        .map_err(OnceError::Store)?
    {
        Claim::Completed(result) => return Ok(Ran::Before(result)),
        Claim::InProgress => return Err(OnceError::InProgress),
        Claim::Mismatch => return Err(OnceError::Mismatch),
        Claim::Acquired => {}
    }
    match work().await {
        Ok(result) => {
            // Each attempt has the SDK's own retries with backoff; these cover a failure
            // that outlasts them.
            let mut attempt = 0;
            loop {
                match store
                    .complete(key, payload_hash, &result, clock.now(), policy.keep_for)
                    .await
                {
                    Ok(()) => return Ok(Ran::Now(result)),
                    Err(e) if attempt >= 2 => return Err(OnceError::Store(e)),
                    Err(_) => attempt += 1,
                }
            }
        }
        Err(e) => {
            // If this fails too, the claim expires after `claim_for`.
            let _ = store.release(key).await;
            Err(OnceError::Work(e))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::{FixedClock, MemoryIdempotencyStore};
    use chrono::{TimeZone, Utc};
    use std::sync::atomic::{AtomicUsize, Ordering};

    const POLICY: OncePolicy = OncePolicy {
        claim_for: Duration::seconds(30),
        keep_for: Duration::days(1),
    };

    fn clock() -> FixedClock {
        FixedClock(Utc.with_ymd_and_hms(2026, 11, 24, 15, 0, 0).unwrap())
    }

    #[tokio::test]
    async fn a_job_runs_once_and_a_repeat_gets_its_result() {
        let store = MemoryIdempotencyStore::default();
        let runs = AtomicUsize::new(0);
        let work = || async {
            runs.fetch_add(1, Ordering::SeqCst);
            Ok::<_, PortError>("booked".to_string())
        };
        let first = run_once(&store, &clock(), POLICY, "booking#j1", "h1", work).await;
        assert_eq!(first.unwrap(), Ran::Now("booked".into()));
        let again = run_once(&store, &clock(), POLICY, "booking#j1", "h1", work).await;
        assert_eq!(again.unwrap(), Ran::Before("booked".into()));
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        let other = run_once(&store, &clock(), POLICY, "booking#j1", "h2", work).await;
        assert!(matches!(other, Err(OnceError::Mismatch)));
        assert_eq!(runs.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_failed_run_gives_its_claim_up_for_the_retry() {
        let store = MemoryIdempotencyStore::default();
        let failed = run_once(&store, &clock(), POLICY, "k", "h", || async {
            Err::<String, _>(PortError::unavailable("write", "down"))
        })
        .await;
        assert!(matches!(failed, Err(OnceError::Work(_))));
        let retried = run_once(&store, &clock(), POLICY, "k", "h", || async {
            Ok::<_, PortError>("done".to_string())
        })
        .await;
        assert_eq!(retried.unwrap(), Ran::Now("done".into()));
    }

    #[tokio::test]
    async fn a_job_claimed_elsewhere_is_retried_later_and_a_store_failure_is_reported() {
        let store = MemoryIdempotencyStore::default();
        let claim = store
            .claim("k", "h", clock().now(), Duration::seconds(30))
            .await;
        assert_eq!(claim, Ok(Claim::Acquired));
        let busy = run_once(&store, &clock(), POLICY, "k", "h", || async {
            Ok::<_, PortError>(String::new())
        })
        .await;
        assert!(matches!(busy, Err(OnceError::InProgress)));

        store.failures.fail_next(1);
        let down = run_once(&store, &clock(), POLICY, "k2", "h", || async {
            Ok::<_, PortError>(String::new())
        })
        .await;
        assert!(matches!(down, Err(OnceError::Store(_))));
    }
}
