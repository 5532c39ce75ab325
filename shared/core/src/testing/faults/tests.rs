use super::*;
use crate::testing::memory::MemoryQueue;

#[test]
fn plans_pick_the_calls_they_name() {
    let picked = |plan: &str| -> Vec<u64> {
        let plan: FaultPlan = plan.parse().unwrap();
        (1..=10).filter(|c| plan.fails(*c)).collect()
    };
    assert_eq!(picked("nth:3"), vec![3]);
    assert_eq!(picked("first:2"), vec![1, 2]);
    assert_eq!(picked("first:0"), Vec::<u64>::new());
    assert_eq!(picked("every:4"), vec![4, 8]);
    assert_eq!(picked("percent:0"), Vec::<u64>::new());
    assert_eq!(picked("percent:100").len(), 10);
    let plan = FaultPlan::Percent(30);
    let share = (1..=10_000).filter(|c| plan.fails(*c)).count();
    assert!((2_700..=3_300).contains(&share), "{share}");
    assert_eq!(
        (1..=50).filter(|c| plan.fails(*c)).collect::<Vec<_>>(),
        (1..=50).filter(|c| plan.fails(*c)).collect::<Vec<_>>(),
        "the same calls on every run"
    );
    for bad in [
        "nth:0",
        "every:0",
        "percent:101",
        "sometimes",
        "nth:x",
        "first",
    ] {
        assert!(bad.parse::<FaultPlan>().is_err(), "{bad}");
    }
}

#[test]
fn a_spec_names_function_port_and_plan() {
    let spec =
        FaultSpec::parse(" booking-worker.queue=first:1; notification-worker.email = percent:50 ;")
            .unwrap();
    assert_eq!(
        spec.sites().collect::<Vec<_>>(),
        vec![
            ("booking-worker", "queue", FaultPlan::First(1)),
            ("notification-worker", "email", FaultPlan::Percent(50)),
        ]
    );
    assert!(FaultSpec::parse("").unwrap().sites().next().is_none());
    assert!(matches!(
        FaultSpec::parse("booking-worker=first:1"),
        Err(FaultSpecError::Malformed(_))
    ));
    assert!(matches!(
        FaultSpec::parse("booking-worker.queue=often"),
        Err(FaultSpecError::BadPlan(_))
    ));
}

#[tokio::test]
async fn a_faulty_port_fails_the_picked_calls_and_passes_the_rest() {
    let spec = FaultSpec::parse("webhook.queue=nth:2").unwrap();
    let queue = spec.wrap("webhook", "queue", MemoryQueue::default());
    let untouched = spec.wrap("webhook", "bookings", MemoryQueue::default());
    assert!(queue.enqueue(&[]).await.is_ok());
    let second = queue.enqueue(&[]).await;
    assert!(
        matches!(&second, Err(PortError::Unavailable { message, .. }) if message == "injected fault"),
        "{second:?}"
    );
    assert!(queue.enqueue(&[]).await.is_ok());
    assert_eq!(queue.faults.failed(), 1);
    for _ in 0..5 {
        assert!(untouched.enqueue(&[]).await.is_ok());
    }
}
