//! Running a job once, Powertools-style, on an `IdempotencyStore`: claim the job's key with the
//! hash of what makes it that job; a completed key is skipped, a key claimed by another
//! delivery is retried later (or waited for, when the policy says so), a key reused for
//! another payload is refused; the work's failure gives the claim up so the redelivery can
//! run it. Queue workers run every job this way (callbook-aws's worker skeleton), and the
//! webhook every tool call (its answer is the record).

use std::future::Future;

use chrono::{DateTime, Duration, Utc};
use thiserror::Error;

use crate::jobs::OncePolicy;
use crate::ports::{Claim, Clock, IdempotencyStore, PortError};

#[derive(Debug, Error)]
pub enum OnceError<E> {
    #[error("another delivery of this job is running; it will be retried")]
    InProgress,
    #[error("this job id was used before with other content: not run")]
    Mismatch,
    /// The claim could not be made: nothing was run.
    #[error("the idempotency store failed: {0}")]
    Store(PortError),
    #[error(transparent)]
    Work(E),
}

/// What happened to the job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ran<T> {
    /// Run now; its record is stored.
    Now(T),
    /// Run before; its stored record.
    Before(String),
    /// Run now, but its record could not be stored (every try the policy and the deadline
    /// allowed): once the claim expires, a repeat would run it again, so the claim must
    /// outlast the repeats that can come, or the work must tolerate one.
    Unrecorded(T, PortError),
}

/// What a run leaves behind for a repeat to find.
pub trait Record {
    fn record(&self) -> String;
}

impl Record for String {
    fn record(&self) -> String {
        self.clone()
    }
}

/// The first pause between two tries to record a result past the policy's quick ones; each
/// pause doubles, up to `LONGEST_PAUSE`.
const FIRST_PAUSE: Duration = Duration::milliseconds(100);
const LONGEST_PAUSE: Duration = Duration::seconds(2);

/// Runs `work` once for `key`; its result is recorded in `policy.record_attempts` quick tries
/// (a caller is waiting on it).
pub async fn run_once<I, C, T, E, F, Fut>(
    store: &I,
    clock: &C,
    policy: OncePolicy,
    key: &str,
    payload_hash: &str,
    work: F,
) -> Result<Ran<T>, OnceError<E>>
where
    I: IdempotencyStore,
    C: Clock,
    T: Record,
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    run_once_by(store, clock, policy, None, key, payload_hash, work).await
}

/// Runs `work` once for `key`; after the quick tries, its result is recorded (or its claim
/// given up) again with backoff until `deadline` (the function's own, less what it needs to
/// answer): a result not recorded is work a repeat might do again.
pub async fn run_once_by<I, C, T, E, F, Fut>(
    store: &I,
    clock: &C,
    policy: OncePolicy,
    deadline: Option<DateTime<Utc>>,
    key: &str,
    payload_hash: &str,
    work: F,
) -> Result<Ran<T>, OnceError<E>>
where
    I: IdempotencyStore,
    C: Clock,
    T: Record,
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    // Real time, not the clock port's: tests fix the clock, and still wait.
    let first_claim = std::time::Instant::now();
    loop {
        match store
            .claim(key, payload_hash, clock.now(), policy.claim_for)
            .await
            .map_err(OnceError::Store)?
        {
            Claim::Completed(record) => return Ok(Ran::Before(record)),
            Claim::InProgress => match policy.waiting {
                Some(waiting) if first_claim.elapsed() < waiting.up_to => {
                    clock.sleep(waiting.every).await;
                }
                _ => return Err(OnceError::InProgress),
            },
            Claim::Mismatch => return Err(OnceError::Mismatch),
            Claim::Acquired => break,
        }
    }
    match work().await {
        Ok(result) => {
            let record = result.record();
            // Each try has the SDK's own retries with backoff; more tries cover a failure
            // that outlasts them.
            let recorded = persist(clock, policy.record_attempts, deadline, || {
                store.complete(key, payload_hash, &record, clock.now(), policy.keep_for)
            })
            .await;
            match recorded {
                Ok(()) => Ok(Ran::Now(result)),
                Err(e) => Ok(Ran::Unrecorded(result, e)),
            }
        }
        Err(e) => {
            if let Err(failed) = persist(clock, 1, deadline, || store.release(key)).await {
                // The claim expires after `claim_for`; until then a retry is told to wait.
                tracing::warn!(error = %failed, "claim not given up");
            }
            Err(OnceError::Work(e))
        }
    }
}

/// Tries `attempt` `quick` times at once, then, with a deadline, again after each pause while
/// the pause would end before it. The pauses are counted as well as the clock, so a clock
/// that stands still (a test's) still comes to the end.
async fn persist<C, F, Fut>(
    clock: &C,
    quick: u32,
    deadline: Option<DateTime<Utc>>,
    mut attempt: F,
) -> Result<(), PortError>
where
    C: Clock,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<(), PortError>>,
{
    let started = clock.now();
    let (mut tries, mut slept, mut pause) = (0, Duration::zero(), FIRST_PAUSE);
    loop {
        let Err(e) = attempt().await else {
            return Ok(());
        };
        tries += 1;
        if tries < quick {
            continue;
        }
        let Some(deadline) = deadline else {
            return Err(e);
        };
        let spent = (clock.now() - started).max(slept);
        if started + spent + pause >= deadline {
            return Err(e);
        }
        clock.sleep(pause.to_std().unwrap_or_default()).await;
        slept += pause;
        pause = (pause * 2).min(LONGEST_PAUSE);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::faults::Faulty;
    use crate::testing::memory::{FixedClock, MemoryIdempotencyStore};
    use chrono::{Duration, TimeZone, Utc};
    use std::sync::atomic::{AtomicUsize, Ordering};

    const POLICY: OncePolicy = OncePolicy {
        claim_for: Duration::seconds(30),
        keep_for: Duration::days(1),
        waiting: None,
        record_attempts: 3,
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
        let store = Faulty::<MemoryIdempotencyStore>::default();
        let claim = store
            .claim("k", "h", clock().now(), Duration::seconds(30))
            .await;
        assert_eq!(claim, Ok(Claim::Acquired));
        let busy = run_once(&store, &clock(), POLICY, "k", "h", || async {
            Ok::<_, PortError>(String::new())
        })
        .await;
        assert!(matches!(busy, Err(OnceError::InProgress)));

        store.faults.fail_next(1);
        let down = run_once(&store, &clock(), POLICY, "k2", "h", || async {
            Ok::<_, PortError>(String::new())
        })
        .await;
        assert!(matches!(down, Err(OnceError::Store(_))));
    }

    #[tokio::test]
    async fn a_result_that_cannot_be_recorded_is_reported_with_the_result() {
        let store = Faulty::<MemoryIdempotencyStore>::default();
        // The store fails once the work has run: every attempt to record the result.
        let ran = run_once(&store, &clock(), POLICY, "k", "h", || async {
            store.faults.fail_next(3);
            Ok::<_, PortError>("sent".to_string())
        })
        .await;
        assert!(
            matches!(&ran, Ok(Ran::Unrecorded(result, _)) if result == "sent"),
            "{ran:?}"
        );
        // Two tries were not enough: with the third, it is recorded.
        let store = Faulty::<MemoryIdempotencyStore>::default();
        let ran = run_once(&store, &clock(), POLICY, "k", "h", || async {
            store.faults.fail_next(2);
            Ok::<_, PortError>("sent".to_string())
        })
        .await;
        assert_eq!(ran.unwrap(), Ran::Now("sent".into()));
    }

    #[tokio::test(start_paused = true)]
    async fn with_a_deadline_the_record_is_retried_with_backoff_until_it_lands() {
        let store = Faulty::<MemoryIdempotencyStore>::default();
        let deadline = Some(clock().now() + Duration::seconds(25));
        let started = tokio::time::Instant::now();
        // Twelve failed tries, far past the three quick ones: still recorded, after pauses.
        let ran = run_once_by(&store, &clock(), POLICY, deadline, "k", "h", || async {
            store.faults.fail_next(12);
            Ok::<_, PortError>("sent".to_string())
        })
        .await;
        assert_eq!(ran.unwrap(), Ran::Now("sent".into()));
        assert!(started.elapsed() > std::time::Duration::from_secs(10));
        let again = run_once(&store, &clock(), POLICY, "k", "h", || async {
            Ok::<_, PortError>("again".to_string())
        })
        .await;
        assert_eq!(again.unwrap(), Ran::Before("sent".into()));
    }

    #[tokio::test(start_paused = true)]
    async fn with_a_deadline_the_tries_stop_before_it_and_the_claim_is_kept() {
        let store = Faulty::<MemoryIdempotencyStore>::default();
        let deadline = Some(clock().now() + Duration::seconds(25));
        let started = tokio::time::Instant::now();
        let ran = run_once_by(&store, &clock(), POLICY, deadline, "k", "h", || async {
            store.faults.fail_next(1_000);
            Ok::<_, PortError>("sent".to_string())
        })
        .await;
        assert!(
            matches!(&ran, Ok(Ran::Unrecorded(r, _)) if r == "sent"),
            "{ran:?}"
        );
        let waited = started.elapsed();
        assert!(
            waited > std::time::Duration::from_secs(20)
                && waited < std::time::Duration::from_secs(25),
            "{waited:?}"
        );
        // The claim stands: a repeat is told the job is in progress, and does not run it.
        store.faults.fail_next(0);
        let repeat = run_once(&store, &clock(), POLICY, "k", "h", || async {
            Ok::<_, PortError>("again".to_string())
        })
        .await;
        assert!(matches!(repeat, Err(OnceError::InProgress)), "{repeat:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn with_a_deadline_a_failed_run_gives_its_claim_up_whatever_it_takes() {
        let store = Faulty::<MemoryIdempotencyStore>::default();
        let deadline = Some(clock().now() + Duration::seconds(25));
        let failed = run_once_by(&store, &clock(), POLICY, deadline, "k", "h", || async {
            store.faults.fail_next(5);
            Err::<String, _>(PortError::unavailable("send", "down"))
        })
        .await;
        assert!(matches!(failed, Err(OnceError::Work(_))));
        let retried = run_once(&store, &clock(), POLICY, "k", "h", || async {
            Ok::<_, PortError>("sent".to_string())
        })
        .await;
        assert_eq!(retried.unwrap(), Ran::Now("sent".into()));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_repeat_waits_for_the_first_run_when_the_policy_says_so() {
        let store = std::sync::Arc::new(MemoryIdempotencyStore::default());
        let waiting = OncePolicy {
            waiting: Some(crate::jobs::Waiting {
                up_to: std::time::Duration::from_secs(2),
                every: std::time::Duration::from_millis(20),
            }),
            ..POLICY
        };
        let first = {
            let store = std::sync::Arc::clone(&store);
            tokio::spawn(async move {
                run_once(&*store, &clock(), POLICY, "k", "h", || async {
                    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                    Ok::<_, PortError>("booked".to_string())
                })
                .await
            })
        };
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        // Without waiting: told it is in progress; with it: the first run's result.
        let impatient = run_once(&*store, &clock(), POLICY, "k", "h", || async {
            Ok::<_, PortError>("again".to_string())
        })
        .await;
        assert!(matches!(impatient, Err(OnceError::InProgress)));
        let patient = run_once(&*store, &clock(), waiting, "k", "h", || async {
            Ok::<_, PortError>("again".to_string())
        })
        .await;
        assert_eq!(patient.unwrap(), Ran::Before("booked".into()));
        assert_eq!(first.await.unwrap().unwrap(), Ran::Now("booked".into()));
    }
}
