//! The AWS adapters against moto (real wire protocol), with the tables and queues that
//! template.yaml defines, provisioned by infra/provision.py.

use callbook_aws::dynamo::DynamoBookingStore;
use callbook_aws::health::AwsHealthProbe;
use callbook_aws::idempotency::DynamoIdempotencyStore;
use callbook_aws::notify::{SesEmail, SnsSms};
use callbook_aws::sqs::SqsJobQueue;
use callbook_core::BookingRecord;
use callbook_core::BookingReference;
use callbook_core::EmailAddress;
use callbook_core::RenderedEmail;
use callbook_core::{
    BookingChange, BookingChangeJob, BookingJob, CustomerDetails, Job, JobKind, NotificationJob,
};
use callbook_core::{
    BookingStore, Claim, EmailSender, HealthProbe, IdempotencyStore, JobQueue, PortError,
    RecordOutcome, SmsSender,
};
use callbook_core::{PhoneNumber, PhoneRegion};
use callbook_tests::Moto;
use chrono::{DateTime, Duration, TimeZone, Utc};

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, 15, 0, 0).unwrap()
}

fn phone(raw: &str) -> PhoneNumber {
    PhoneNumber::parse(raw, PhoneRegion::from_code("US").unwrap()).unwrap()
}

fn job(reference: &str, job_id: &str, phone_number: &str) -> BookingJob {
    let start = DateTime::parse_from_rfc3339("2026-11-25T14:00:00-05:00").unwrap();
    BookingJob {
        job_id: job_id.into(),
        business_id: "default".into(),
        business_name: "Clinic".into(),
        reference: BookingReference::parse(reference).unwrap(),
        customer: CustomerDetails {
            name: "Test User".parse().unwrap(),
            phone: phone(phone_number),
            email: EmailAddress::parse("test@example.com").unwrap(),
        },
        service: "Consultation".into(),
        duration_minutes: 60,
        price_cents: Some(15000),
        start_utc: start.with_timezone(&Utc),
        start_local: start,
        time_zone: "America/New_York".into(),
        slot_cells: Vec::new(),
        call_id: Some("call-1".into()),
        tool_call_id: Some("tc-1".into()),
        requested_at: now(),
        owner: Vec::new(),
        holder: None,
        texts: Default::default(),
        followups: None,
    }
}

#[tokio::test]
async fn booking_store_records_each_job_once_and_upserts_the_customer() {
    let moto = Moto::start();
    let sdk = moto.sdk_config().await;
    let store = DynamoBookingStore::new(
        aws_sdk_dynamodb::Client::new(&sdk),
        moto.env("booking-worker", "CUSTOMERS_TABLE"),
        moto.env("booking-worker", "BOOKINGS_TABLE"),
    );
    let first = job("K7P2X9", "job-1", "+17025551234");
    assert_eq!(
        store.record_booking(&first, now()).await,
        Ok(RecordOutcome::Recorded)
    );
    assert_eq!(
        store.record_booking(&first, now()).await,
        Ok(RecordOutcome::AlreadyRecorded)
    );
    // The same reference under another job is a conflict, never an overwrite.
    assert!(matches!(
        store
            .record_booking(&job("K7P2X9", "job-other", "+17025559999"), now())
            .await,
        Err(PortError::Conflict(_))
    ));
    let stored = store
        .booking("default", &first.reference)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored, BookingRecord::from_job(&first, now()));

    let later = now() + Duration::hours(1);
    let second = job("M4N5P6", "job-2", "+17025551234");
    assert_eq!(
        store.record_booking(&second, later).await,
        Ok(RecordOutcome::Recorded)
    );
    let customer = store
        .customer("default", &phone("+17025551234"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(customer.booking_count, 2);
    assert_eq!(customer.first_contact_at, now());
    assert_eq!(customer.last_contact_at, later);
    assert_eq!(
        customer.last_booking_reference,
        Some(second.reference.clone())
    );
    assert!(
        store
            .customer("default", &phone("+17025559999"))
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .customer("other-business", &phone("+17025551234"))
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn idempotency_store_claims_completes_and_expires() {
    let moto = Moto::start();
    let sdk = moto.sdk_config().await;
    let store = DynamoIdempotencyStore::new(
        aws_sdk_dynamodb::Client::new(&sdk),
        moto.env("notification-worker", "IDEMPOTENCY_TABLE"),
    );
    let hold = Duration::minutes(5);
    assert_eq!(
        store.claim("k1", "h1", now(), hold).await,
        Ok(Claim::Acquired)
    );
    assert_eq!(
        store.claim("k1", "h1", now(), hold).await,
        Ok(Claim::InProgress)
    );
    // An abandoned claim can be taken over once it has expired.
    assert_eq!(
        store
            .claim("k1", "h1", now() + Duration::minutes(6), hold)
            .await,
        Ok(Claim::Acquired)
    );
    store
        .complete("k1", "h1", "msg-123", now(), Duration::days(30))
        .await
        .unwrap();
    assert_eq!(
        store.claim("k1", "h1", now(), hold).await,
        Ok(Claim::Completed("msg-123".into()))
    );
    // The same key with another payload is refused, not answered with the other's result.
    assert_eq!(
        store.claim("k1", "h2", now(), hold).await,
        Ok(Claim::Mismatch)
    );
    assert_eq!(
        store
            .claim("k1", "h1", now() + Duration::days(31), hold)
            .await,
        Ok(Claim::Acquired)
    );
    store.release("k1").await.unwrap();
    assert_eq!(
        store.claim("k1", "h1", now(), hold).await,
        Ok(Claim::Acquired)
    );
}

#[tokio::test]
async fn sqs_queue_routes_each_job_to_its_queue() {
    let moto = Moto::start();
    let sdk = moto.sdk_config().await;
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let booking_url = moto.env("webhook", "BOOKING_QUEUE_URL");
    let notification_url = moto.env("booking-worker", "NOTIFICATION_QUEUE_URL");
    let queue = SqsJobQueue::new(
        sqs.clone(),
        vec![
            (JobKind::Booking, booking_url.clone()),
            (JobKind::Notification, notification_url.clone()),
        ],
    );
    let booking = job("K7P2X9", "job-1", "+17025551234");
    let mut jobs = vec![Job::Booking(booking.clone())];
    jobs.extend(NotificationJob::booking_confirmations(&booking).map(Job::Notification));
    queue.enqueue(&jobs).await.unwrap();

    let receive = |url: String| {
        let sqs = sqs.clone();
        async move {
            sqs.receive_message()
                .queue_url(url)
                .max_number_of_messages(10)
                .send()
                .await
                .unwrap()
                .messages
                .unwrap_or_default()
        }
    };
    let bookings = receive(booking_url).await;
    assert_eq!(bookings.len(), 1);
    let parsed: BookingJob = serde_json::from_str(bookings[0].body().unwrap()).unwrap();
    assert_eq!(parsed, booking);
    let notifications = receive(notification_url).await;
    assert_eq!(notifications.len(), 2);

    // A function without the queue's URL cannot send there: a clear error, not a panic.
    let webhook_only = SqsJobQueue::new(sqs, vec![(JobKind::Booking, "unused".into())]);
    let err = webhook_only.enqueue(&jobs[1..]).await.unwrap_err();
    assert!(err.to_string().contains("no notification queue"), "{err}");
}

#[tokio::test]
async fn sns_and_ses_deliver_to_the_recipient() {
    let moto = Moto::start();
    let sdk = moto.sdk_config().await;
    let sms = SnsSms::new(aws_sdk_sns::Client::new(&sdk));
    let id = sms
        .send_sms(&phone("+17025551234"), "Your booking K7P2X9")
        .await
        .unwrap();
    assert!(!id.is_empty());
    let email = RenderedEmail {
        subject: "Booked".into(),
        text: "plain".into(),
        html: "<p>html</p>".into(),
    };
    let to = EmailAddress::parse("test@example.com").unwrap();
    let ses = SesEmail::new(
        aws_sdk_sesv2::Client::new(&sdk),
        moto.env("notification-worker", "SENDER_EMAIL"),
    );
    ses.send_email(&to, &email).await.unwrap();

    let sent = moto.sent_messages();
    assert_eq!(sent.sms_to("+17025551234"), ["Your booking K7P2X9"]);
    assert_eq!(
        sent.emails_to("test@example.com"),
        [("Booked", "<p>html</p>")]
    );

    // SES refuses the message (here: a sender without an identity) with MessageRejected: a
    // refusal the worker records and never retries (the README says to alarm on the class).
    let unverified = SesEmail::new(
        aws_sdk_sesv2::Client::new(&sdk),
        "nobody@unverified.example".into(),
    );
    assert_eq!(
        unverified.send_email(&to, &email).await,
        Err(PortError::Rejected(
            callbook_core::SendFailure::EmailRejected
        ))
    );
}

#[tokio::test]
async fn health_probe_reports_tables_and_queues() {
    let moto = Moto::start();
    let sdk = moto.sdk_config().await;
    let tables = vec![
        (
            "bookings".to_string(),
            moto.env("webhook", "BOOKINGS_TABLE"),
        ),
        ("missing".to_string(), "no-such-table".to_string()),
    ];
    let queues = vec![(
        "booking-queue".to_string(),
        moto.env("webhook", "BOOKING_QUEUE_URL"),
    )];
    let probe = AwsHealthProbe::new(
        aws_sdk_dynamodb::Client::new(&sdk),
        aws_sdk_sqs::Client::new(&sdk),
        tables,
        queues,
    );
    let report = probe.check().await;
    let names: Vec<&str> = report.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["bookings", "missing", "booking-queue"]);
    assert!(report[0].healthy && report[0].detail == "ACTIVE");
    assert!(!report[1].healthy);
    assert!(
        report[2].healthy && report[2].detail == "0 messages waiting",
        "{:?}",
        report[2]
    );
}

mod slots {
    use std::sync::Arc;

    use callbook_aws::slots::DynamoSlotStore;
    use callbook_core::BookingReference;
    use callbook_core::{Reservation, SlotStore};
    use callbook_core::{SlotCell, cells_for};
    use callbook_tests::Moto;
    use chrono::TimeZone;
    use chrono_tz::America::New_York;

    fn reference(i: usize) -> BookingReference {
        BookingReference::derive(format!("slot-test-{i}").as_bytes())
    }

    fn at(h: u32, m: u32) -> Vec<SlotCell> {
        cells_for(
            New_York.with_ymd_and_hms(2026, 11, 25, h, m, 0).unwrap(),
            60,
            30,
        )
    }

    fn store(moto: &Moto, sdk: &aws_config::SdkConfig) -> DynamoSlotStore {
        DynamoSlotStore::new(
            aws_sdk_dynamodb::Client::new(sdk),
            moto.env("webhook", "BOOKINGS_TABLE"),
        )
    }

    #[tokio::test]
    async fn a_new_booking_claims_its_reference_in_the_reservation_transaction() {
        let moto = Moto::start();
        let sdk = moto.sdk_config().await;
        let slots = store(&moto, &sdk);
        let r = reference(7);
        assert_eq!(
            slots
                .reserve_new("b", &at(9, 0), 1, &r, "h1", "first")
                .await,
            Ok(Reservation::Reserved)
        );
        // The same reference from another request, at a free time: refused as a whole.
        assert_eq!(
            slots
                .reserve_new("b", &at(11, 0), 1, &r, "h2", "second")
                .await,
            Ok(Reservation::ReferenceTaken)
        );
        let day = at(9, 0)[0].day;
        assert_eq!(
            slots.taken("b", day).await.unwrap().len(),
            2,
            "11:00 stays free"
        );
        // A repeat of the first request passes its own claim; another business is separate.
        assert_eq!(
            slots
                .reserve_new("b", &at(9, 0), 1, &r, "h1", "first")
                .await,
            Ok(Reservation::AlreadyReserved)
        );
        assert_eq!(
            slots
                .reserve_new("c", &at(9, 0), 1, &r, "h1", "second")
                .await,
            Ok(Reservation::Reserved)
        );
    }

    #[tokio::test]
    async fn reservations_take_every_cell_or_none() {
        let moto = Moto::start();
        let sdk = moto.sdk_config().await;
        let slots = store(&moto, &sdk);
        assert_eq!(
            slots
                .reserve("b", &at(14, 0), 1, &reference(1), "holder")
                .await,
            Ok(Reservation::Reserved)
        );
        assert_eq!(
            slots
                .reserve("b", &at(14, 0), 1, &reference(1), "holder")
                .await,
            Ok(Reservation::AlreadyReserved)
        );
        assert_eq!(
            slots
                .reserve("b", &at(14, 30), 1, &reference(2), "holder")
                .await,
            Ok(Reservation::Full)
        );
        // Nothing of the refused reservation was written: 15:00 is still free.
        let day = at(14, 0)[0].day;
        let taken = slots.taken("b", day).await.unwrap();
        assert_eq!(
            taken.iter().map(|(c, n)| (c.key(), *n)).collect::<Vec<_>>(),
            [
                ("2026-11-25T19:00Z".to_string(), 1),
                ("2026-11-25T19:30Z".to_string(), 1)
            ]
        );
        assert_eq!(
            slots
                .reserve("b", &at(14, 30), 2, &reference(2), "holder")
                .await,
            Ok(Reservation::Reserved)
        );
        assert_eq!(
            slots
                .reserve("other", &at(14, 0), 1, &reference(3), "holder")
                .await,
            Ok(Reservation::Reserved)
        );
        // Who booked is findable on the first cell, and only by the same tag.
        assert_eq!(
            slots.held_by("b", &at(14, 0)[0], "holder").await,
            Ok(Some(reference(1)))
        );
        assert_eq!(
            slots.held_by("b", &at(14, 0)[0], "someone-else").await,
            Ok(None)
        );
        slots.release("b", &at(14, 0), &reference(1)).await.unwrap();
        slots.release("b", &at(14, 0), &reference(1)).await.unwrap(); // safe to repeat
        assert_eq!(slots.held_by("b", &at(14, 0)[0], "holder").await, Ok(None));
        slots
            .release("b", &at(14, 30), &reference(2))
            .await
            .unwrap();
        assert!(slots.taken("b", day).await.unwrap().is_empty());
        assert_eq!(
            slots
                .reserve("b", &at(14, 0), 1, &reference(4), "holder")
                .await,
            Ok(Reservation::Reserved)
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn twenty_concurrent_reservations_of_one_slot_leave_one_booked() {
        let moto = Moto::start();
        let sdk = moto.sdk_config().await;
        for capacity in [1_u32, 3] {
            let slots = Arc::new(store(&moto, &sdk));
            let business = format!("concurrent-{capacity}");
            let tasks: Vec<_> = (0..20)
                .map(|i| {
                    let (slots, business) = (Arc::clone(&slots), business.clone());
                    tokio::spawn(async move {
                        slots
                            .reserve(
                                &business,
                                &at(10, 0),
                                capacity,
                                &reference(100 + i),
                                &format!("holder-{i}"),
                            )
                            .await
                    })
                })
                .collect();
            let mut outcomes = Vec::new();
            for t in tasks {
                outcomes.push(
                    t.await
                        .unwrap()
                        .expect("no reservation may fail with an error"),
                );
            }
            let reserved = outcomes
                .iter()
                .filter(|o| **o == Reservation::Reserved)
                .count();
            assert_eq!(reserved, capacity as usize, "{outcomes:?}");
            assert_eq!(
                outcomes.iter().filter(|o| **o == Reservation::Full).count(),
                20 - capacity as usize
            );
            let taken = slots.taken(&business, at(10, 0)[0].day).await.unwrap();
            assert!(taken.iter().all(|(_, n)| *n == capacity), "{taken:?}");
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_requests_of_one_holder_book_once() {
        let moto = Moto::start();
        let sdk = moto.sdk_config().await;
        let slots = Arc::new(store(&moto, &sdk));
        let tasks: Vec<_> = (0..10)
            .map(|i| {
                let slots = Arc::clone(&slots);
                tokio::spawn(async move {
                    slots
                        .reserve("b", &at(10, 0), 5, &reference(200 + i), "same-caller")
                        .await
                })
            })
            .collect();
        let mut outcomes = Vec::new();
        for t in tasks {
            outcomes.push(t.await.unwrap().expect("no error"));
        }
        let reserved: Vec<usize> = (0..10)
            .filter(|i| outcomes[*i] == Reservation::Reserved)
            .collect();
        assert_eq!(reserved.len(), 1, "{outcomes:?}");
        let winner = reference(200 + reserved[0]);
        assert!(
            outcomes
                .iter()
                .all(|o| *o == Reservation::Reserved || *o == Reservation::HeldBy(winner.clone())),
            "{outcomes:?}"
        );
        assert_eq!(
            slots
                .taken("b", at(10, 0)[0].day)
                .await
                .unwrap()
                .iter()
                .map(|(_, n)| *n)
                .max(),
            Some(1)
        );
        // Released, the holder's claim goes with it: they can book that time again.
        slots.release("b", &at(10, 0), &winner).await.unwrap();
        assert_eq!(
            slots.held_by("b", &at(10, 0)[0], "same-caller").await,
            Ok(None)
        );
        assert_eq!(
            slots
                .reserve("b", &at(10, 0), 5, &reference(300), "same-caller")
                .await,
            Ok(Reservation::Reserved)
        );
    }
}

#[tokio::test]
async fn a_callers_bookings_come_from_the_customer_index_and_changes_apply_once() {
    let moto = Moto::start();
    let sdk = moto.sdk_config().await;
    let customers_table = moto.env("booking-worker", "CUSTOMERS_TABLE");
    let store = DynamoBookingStore::new(
        aws_sdk_dynamodb::Client::new(&sdk),
        customers_table.clone(),
        moto.env("booking-worker", "BOOKINGS_TABLE"),
    );
    let mut later = job("M4N5P6", "job-2", "+17025551234");
    later.start_utc += Duration::days(2);
    later.start_local += Duration::days(2);
    for j in [
        job("K7P2X9", "job-1", "+17025551234"),
        later.clone(),
        job("Q8R9S2", "job-3", "+17025559999"),
    ] {
        store.record_booking(&j, now()).await.unwrap();
    }
    let mine = store
        .bookings_of("default", &phone("+17025551234"), now())
        .await
        .unwrap();
    let refs: Vec<&str> = mine.iter().map(|b| b.reference.as_str()).collect();
    assert_eq!(
        refs,
        ["K7P2X9", "M4N5P6"],
        "only this caller's, soonest first"
    );
    let after_first = store
        .bookings_of("default", &phone("+17025551234"), mine[0].start_utc)
        .await
        .unwrap();
    assert_eq!(after_first.len(), 1, "only those starting after `from`");

    let cancel = BookingChangeJob {
        job_id: "default#K7P2X9#cancel".into(),
        business_id: "default".into(),
        business_name: "Clinic".into(),
        reference: BookingReference::parse("K7P2X9").unwrap(),
        change: BookingChange::Cancel { reason: None },
        call_id: None,
        tool_call_id: None,
        requested_at: now(),
        texts: Default::default(),
        followups: None,
    };
    let applied = store.apply_change(&cancel, now()).await.unwrap();
    assert!(applied.notify);
    assert_eq!(applied.booking.status.as_str(), "cancelled");
    let again = store.apply_change(&cancel, now()).await.unwrap();
    assert_eq!(
        (again.notify, again.booking.version),
        (true, 2),
        "applied once"
    );
    let customer = store
        .customer("default", &phone("+17025551234"))
        .await
        .unwrap()
        .unwrap();
    // Two bookings at 150.00, one cancelled.
    assert_eq!(
        (customer.booking_count, customer.lifetime_value_cents),
        (2, 15_000)
    );
    // A change to a booking that is not recorded is an error the queue retries.
    let mut unknown = cancel.clone();
    unknown.reference = BookingReference::parse("ZZZZZZ").unwrap();
    assert!(store.apply_change(&unknown, now()).await.is_err());
}

#[tokio::test]
async fn call_records_and_leads_are_written_only_over_the_version_read() {
    use callbook_aws::calls::DynamoCallStore;
    use callbook_core::{CallJob, CallRecord, CallStatus};
    use callbook_core::{CallStore, CustomerContact, Saved};
    use callbook_core::{LeadJob, LeadRecord, LeadSignals, LeadSource};

    let moto = Moto::start();
    let sdk = moto.sdk_config().await;
    let store = DynamoCallStore::new(
        aws_sdk_dynamodb::Client::new(&sdk),
        moto.env("analytics-worker", "CALLS_TABLE"),
        moto.env("analytics-worker", "CUSTOMERS_TABLE"),
    );
    let business = callbook_core::Business::from_lookup(&|_: &str| None).unwrap();
    let status = CallStatus {
        business_id: "default".into(),
        call_id: "call-1".into(),
        customer_phone: Some(phone("+17025551234")),
        status: "ended".into(),
        ended_reason: Some("customer-ended-call".into()),
        at: now(),
    };
    let mut call = CallRecord::new("default", "call-1", now());
    assert!(call.apply(&CallJob::Status(&status), &business, now()));
    let contact = CustomerContact {
        phone: phone("+17025551234"),
        call_id: "call-1".into(),
        at: now(),
    };
    assert_eq!(
        store.save_call(&call, Some(&contact)).await,
        Ok(Saved::Written)
    );
    // A second writer that read the same (absent) version loses.
    assert_eq!(store.save_call(&call, None).await, Ok(Saved::Stale));
    let stored = store.call("default", "call-1").await.unwrap().unwrap();
    assert_eq!(stored, call);
    let customer = DynamoBookingStore::new(
        aws_sdk_dynamodb::Client::new(&sdk),
        moto.env("analytics-worker", "CUSTOMERS_TABLE"),
        "unused".into(),
    )
    .customer("default", &phone("+17025551234"))
    .await
    .unwrap()
    .unwrap();
    assert_eq!(
        (
            customer.call_count,
            customer.last_call_id.as_deref(),
            customer.name.as_str()
        ),
        (1, Some("call-1"), "")
    );

    let job = LeadJob {
        job_id: "lead-1".into(),
        business_id: "default".into(),
        business_name: "Clinic".into(),
        call_id: Some("call-1".into()),
        name: Some("Ann".into()),
        phone: phone("+17025551234"),
        email: None,
        interest: "whitening".into(),
        notes: None,
        source: LeadSource::Assistant,
        signals: LeadSignals::default(),
        captured_at: now(),
        follow_up_at: None,
        texts: Default::default(),
    };
    let mut lead = LeadRecord::new(&job);
    lead.merge(&job, &business);
    assert_eq!(store.save_lead(&lead).await, Ok(Saved::Written));
    assert_eq!(store.save_lead(&lead).await, Ok(Saved::Stale));
    let mut read = store
        .lead("default", &phone("+17025551234"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(read, lead);
    let mut second = job.clone();
    second.job_id = "lead-2".into();
    read.merge(&second, &business);
    assert_eq!(store.save_lead(&read).await, Ok(Saved::Written));
    // The lead sits beside the profile: the profile is still readable.
    assert!(customer.phone.as_str() == "+17025551234");
}

#[tokio::test]
async fn businesses_load_from_their_file_and_resolve_by_assistant_or_number() {
    use callbook_aws::business::{DynamoBusinessDirectory, LoadError, load_business};
    use callbook_core::BusinessProfile;
    use callbook_core::{BusinessDirectory, CallRoute};

    let moto = Moto::start();
    let sdk = moto.sdk_config().await;
    let client = aws_sdk_dynamodb::Client::new(&sdk);
    let table = moto.env("webhook", "BUSINESSES_TABLE");
    let mut profile: BusinessProfile =
        serde_json::from_str(include_str!("../../infra/business.example.json")).unwrap();
    let loaded = load_business(&client, &table, &profile).await.unwrap();
    assert_eq!((loaded.created, loaded.routes), (true, 2));

    // No cache, so each lookup reads the table.
    let directory = DynamoBusinessDirectory::with_cache(
        client.clone(),
        table.clone(),
        std::time::Duration::ZERO,
    );
    let by_assistant = directory
        .business_for(CallRoute::Assistant("asst-smile-london"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(by_assistant.zone.name(), "Europe/London");
    let by_number = directory
        .business_for(CallRoute::PhoneNumber("pn-smile-london-main"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(by_number.id, "smile-dental-london");
    assert_eq!(
        directory
            .business("smile-dental-london")
            .await
            .unwrap()
            .unwrap()
            .name,
        "Smile Dental London"
    );
    assert!(
        directory
            .business_for(CallRoute::Assistant("nobody"))
            .await
            .unwrap()
            .is_none()
    );

    // A new assistant replaces the old one: the old route is removed with the same write.
    profile.assistant_ids = vec!["asst-smile-london-v2".into()];
    profile.capacity = Some(3);
    let loaded = load_business(&client, &table, &profile).await.unwrap();
    assert_eq!((loaded.created, loaded.removed_routes), (false, 1));
    assert!(
        directory
            .business_for(CallRoute::Assistant("asst-smile-london"))
            .await
            .unwrap()
            .is_none()
    );
    let updated = directory
        .business_for(CallRoute::Assistant("asst-smile-london-v2"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(updated.capacity, 3);

    // An invalid file is refused before anything is written.
    profile.time_zone = "Nowhere/Land".into();
    assert!(matches!(
        load_business(&client, &table, &profile).await,
        Err(LoadError::Invalid(_))
    ));
}

/// A move and a cancel write the booking and its calendar cells in one transaction, claims
/// included, against DynamoDB's wire protocol; moves planned from a stale view still leave
/// the booking holding exactly its record's cells.
#[tokio::test]
async fn booking_changes_move_the_calendar_with_the_record() {
    use callbook_aws::slots::DynamoSlotStore;
    use callbook_core::SlotCell;
    use callbook_core::{Reservation, SlotStore};

    let moto = Moto::start();
    let sdk = moto.sdk_config().await;
    let client = aws_sdk_dynamodb::Client::new(&sdk);
    let bookings_table = moto.env("booking-worker", "BOOKINGS_TABLE");
    let store = DynamoBookingStore::new(
        client.clone(),
        moto.env("booking-worker", "CUSTOMERS_TABLE"),
        bookings_table.clone(),
    );
    let slots = DynamoSlotStore::new(client, bookings_table);
    let day = chrono::NaiveDate::from_ymd_opt(2026, 11, 25).unwrap();
    let cell = |h: u32, m: u32| SlotCell {
        day,
        start_utc: Utc.with_ymd_and_hms(2026, 11, 25, h + 5, m, 0).unwrap(),
    };
    let reference = BookingReference::parse("K7P2X9").unwrap();
    let mut booked = job("K7P2X9", "job-1", "+17025551234");
    booked.slot_cells = vec![cell(14, 0), cell(14, 30)];
    booked.holder = Some("tag-1400".into());
    assert_eq!(
        slots
            .reserve("default", &booked.slot_cells, 1, &reference, "tag-1400")
            .await,
        Ok(Reservation::Reserved)
    );
    store.record_booking(&booked, now()).await.unwrap();

    let move_job = |id: &str, h: u32, m: u32, reserved: Vec<SlotCell>, secs: i64| {
        let start = Utc.with_ymd_and_hms(2026, 11, 25, h + 5, m, 0).unwrap();
        BookingChangeJob {
            job_id: id.into(),
            business_id: "default".into(),
            business_name: "Clinic".into(),
            reference: reference.clone(),
            change: BookingChange::Reschedule {
                start_utc: start,
                start_local: start.fixed_offset(),
                slot_cells: vec![cell(h, m), cell(h + (m + 30) / 60, (m + 30) % 60)],
                reserved,
                holder: Some(format!("tag-{id}")),
                capacity: 1,
            },
            call_id: None,
            tool_call_id: None,
            requested_at: now() + Duration::seconds(secs),
            texts: Default::default(),
            followups: None,
        }
    };
    let r1 = move_job("r1", 16, 0, vec![cell(16, 0), cell(16, 30)], 1);
    let r2 = move_job("r2", 14, 30, vec![cell(15, 0)], 2);
    for (j, tag) in [(&r1, "w1"), (&r2, "w2")] {
        let BookingChange::Reschedule { reserved, .. } = &j.change else {
            unreachable!()
        };
        slots
            .reserve("default", reserved, 1, &reference, tag)
            .await
            .unwrap();
    }
    for j in [&r1, &r2, &r1] {
        let applied = store.apply_change(j, now()).await.unwrap();
        assert!(applied.notify && applied.release.is_empty(), "{applied:?}");
    }
    let taken = slots.taken("default", day).await.unwrap();
    assert_eq!(taken, vec![(cell(14, 30), 1), (cell(15, 0), 1)]);
    // The claims moved: the old start's is gone, the new one's names the booking.
    assert_eq!(
        slots.held_by("default", &cell(14, 0), "tag-1400").await,
        Ok(None)
    );
    assert_eq!(
        slots.held_by("default", &cell(14, 30), "tag-r2").await,
        Ok(Some(reference.clone()))
    );

    // Another caller takes 16:00 (freed by r2); a late move there cannot apply and the
    // cells reserved for it are handed back.
    let other = BookingReference::parse("M4N5P6").unwrap();
    slots
        .reserve("default", &[cell(16, 0)], 1, &other, "other")
        .await
        .unwrap();
    let r3 = move_job("r3", 16, 0, vec![cell(16, 30)], 3);
    slots
        .reserve("default", &[cell(16, 30)], 1, &reference, "w3")
        .await
        .unwrap();
    let refused = store.apply_change(&r3, now()).await.unwrap();
    assert!(!refused.notify);
    assert_eq!(refused.release, vec![cell(16, 30)]);
    assert_eq!(refused.booking.start_utc, cell(14, 30).start_utc);

    // Cancelled: every cell and the claim go with the record.
    let cancel = BookingChangeJob {
        job_id: "default#K7P2X9#cancel".into(),
        change: BookingChange::Cancel { reason: None },
        ..r1.clone()
    };
    assert!(store.apply_change(&cancel, now()).await.unwrap().notify);
    slots
        .release("default", &refused.release, &reference)
        .await
        .unwrap();
    assert_eq!(
        slots.taken("default", day).await.unwrap(),
        vec![(cell(16, 0), 1)],
        "only the other caller's booking is left"
    );
    assert_eq!(
        slots.held_by("default", &cell(14, 30), "tag-r2").await,
        Ok(None)
    );
}

#[tokio::test]
async fn secrets_are_read_from_ssm_and_secrets_manager_and_cached() {
    use callbook_aws::secrets::SsmSecretStore;
    use callbook_core::SecretRef;
    use callbook_core::SecretStore;

    let moto = Moto::start();
    let sdk = moto.sdk_config().await;
    moto.put_secret("ssm:/callbook/acme/webhook", "acme-ssm-secret-0001");
    moto.put_secret("secretsmanager:callbook/acme-old", "acme-sm-secret-0002");
    let store = SsmSecretStore::new(aws_sdk_ssm::Client::new(&sdk));
    let read = |r: &str| SecretRef::parse(r).unwrap();

    assert_eq!(
        store.secret(&read("ssm:/callbook/acme/webhook")).await,
        Ok("acme-ssm-secret-0001".to_string())
    );
    assert_eq!(
        store
            .secret(&read("secretsmanager:callbook/acme-old"))
            .await,
        Ok("acme-sm-secret-0002".to_string())
    );
    // Read once: a changed value is seen after the cache time, not on every call.
    moto.put_secret("ssm:/callbook/acme/webhook", "acme-ssm-secret-9999");
    assert_eq!(
        store.secret(&read("ssm:/callbook/acme/webhook")).await,
        Ok("acme-ssm-secret-0001".to_string())
    );
    let fresh =
        SsmSecretStore::with_cache(aws_sdk_ssm::Client::new(&sdk), std::time::Duration::ZERO);
    assert_eq!(
        fresh.secret(&read("ssm:/callbook/acme/webhook")).await,
        Ok("acme-ssm-secret-9999".to_string())
    );
    // Missing: a conflict naming the reference, never a value.
    let missing = store.secret(&read("ssm:/callbook/nobody")).await;
    assert!(
        matches!(&missing, Err(PortError::Conflict(m)) if m.contains("ssm:/callbook/nobody")),
        "{missing:?}"
    );
    let missing = store.secret(&read("secretsmanager:callbook/nobody")).await;
    assert!(missing.is_err(), "{missing:?}");
}

mod verifications {
    use callbook_aws::verifications::DynamoVerifications;
    use callbook_core::{
        CallerCode, CallerVerifications, CodeCheck, CodeIssue, PendingCode, PhoneNumber,
        PhoneRegion,
    };
    use callbook_tests::Moto;
    use chrono::{Duration, TimeZone, Utc};

    /// Every rule of caller codes holds in the stored item, one conditional update each.
    #[tokio::test]
    async fn caller_codes_are_counted_checked_and_proved_in_dynamodb() {
        let moto = Moto::start();
        let sdk = moto.sdk_config().await;
        let store = DynamoVerifications::new(
            aws_sdk_dynamodb::Client::new(&sdk),
            moto.env("webhook", "IDEMPOTENCY_TABLE"),
        );
        let us = PhoneRegion::from_code("US").unwrap();
        let phone = PhoneNumber::parse("+17025551234", us).unwrap();
        let now = Utc.with_ymd_and_hms(2026, 11, 24, 15, 0, 0).unwrap();
        let code = CallerCode::parse("482913").unwrap();
        let pending = PendingCode {
            code_hash: code.hash("b", "call-1", &phone),
            phone: phone.clone(),
            expires_at: now + Duration::minutes(10),
        };
        assert_eq!(
            store
                .check_code("b", "call-1", &pending.code_hash, now)
                .await,
            Ok(CodeCheck::NoCode)
        );
        for _ in 0..3 {
            assert_eq!(
                store.store_code("b", "call-1", &pending).await,
                Ok(CodeIssue::Stored)
            );
        }
        assert_eq!(
            store.store_code("b", "call-1", &pending).await,
            Ok(CodeIssue::TooManyForCall)
        );
        assert_eq!(
            store.check_code("b", "call-1", "wrong", now).await,
            Ok(CodeCheck::Wrong { attempts_left: 2 })
        );
        assert_eq!(store.verified("b", "call-1").await, Ok(vec![]));
        assert_eq!(
            store
                .check_code("b", "call-1", &pending.code_hash, now)
                .await,
            Ok(CodeCheck::Verified(phone.clone()))
        );
        assert_eq!(store.verified("b", "call-1").await, Ok(vec![phone.clone()]));
        // The proved code is used up; another call has nothing proved.
        assert_eq!(
            store
                .check_code("b", "call-1", &pending.code_hash, now)
                .await,
            Ok(CodeCheck::NoCode)
        );
        assert_eq!(store.verified("b", "call-2").await, Ok(vec![]));
        // Three tries per code, and an expired code is refused.
        store.store_code("b", "call-3", &pending).await.unwrap();
        for left in [2, 1, 0] {
            assert_eq!(
                store.check_code("b", "call-3", "wrong", now).await,
                Ok(CodeCheck::Wrong {
                    attempts_left: left
                })
            );
        }
        assert_eq!(
            store
                .check_code("b", "call-3", &pending.code_hash, now)
                .await,
            Ok(CodeCheck::NoAttemptsLeft)
        );
        store.store_code("b", "call-4", &pending).await.unwrap();
        assert_eq!(
            store
                .check_code(
                    "b",
                    "call-4",
                    &pending.code_hash,
                    now + Duration::minutes(11)
                )
                .await,
            Ok(CodeCheck::Expired)
        );
    }
}

/// Caller limits: a unit per taker (a retry is the same taker), never more than the limit
/// under concurrent takes, given back, and an expired window (TTL deletes late, and never in
/// moto) starts again.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn quotas_grant_their_limit_once_per_taker_even_concurrently() {
    use callbook_aws::quotas::DynamoQuotas;
    use callbook_core::{QuotaTaken, Quotas};

    let moto = Moto::start();
    let sdk = moto.sdk_config().await;
    let quotas = DynamoQuotas::new(
        aws_sdk_dynamodb::Client::new(&sdk),
        moto.env("webhook", "IDEMPOTENCY_TABLE"),
    );
    let ends = now() + Duration::hours(1);
    let take = |taker: &'static str| quotas.take("quota#default#k", taker, 2, ends, now());
    assert_eq!(take("a").await, Ok(QuotaTaken::Granted { used: 1 }));
    assert_eq!(take("a").await, Ok(QuotaTaken::Granted { used: 1 }));
    assert_eq!(take("b").await, Ok(QuotaTaken::Granted { used: 2 }));
    assert_eq!(take("c").await, Ok(QuotaTaken::Exhausted));
    quotas.give_back("quota#default#k", "a").await.unwrap();
    quotas.give_back("quota#default#k", "a").await.unwrap();
    assert_eq!(take("c").await, Ok(QuotaTaken::Granted { used: 2 }));
    assert_eq!(take("d").await, Ok(QuotaTaken::Exhausted));
    // The window is over: it starts again.
    let later = ends + Duration::seconds(1);
    assert_eq!(
        quotas
            .take("quota#default#k", "d", 2, later + Duration::hours(1), later)
            .await,
        Ok(QuotaTaken::Granted { used: 1 })
    );

    let quotas = std::sync::Arc::new(quotas);
    let tasks: Vec<_> = (0..12)
        .map(|i| {
            let quotas = quotas.clone();
            tokio::spawn(async move {
                quotas
                    .take("quota#default#race", &format!("t{i}"), 3, ends, now())
                    .await
            })
        })
        .collect();
    let mut granted = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(QuotaTaken::Granted { .. }) => granted += 1,
            Ok(QuotaTaken::Exhausted) => {}
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!(granted, 3);
}

/// The upgrade backfill: bookings recorded before references were claimed get their claim,
/// so a new booking can no longer be given their reference; running it again changes nothing.
#[tokio::test]
async fn recorded_bookings_get_their_references_claimed_once() {
    use callbook_aws::slots::{Backfill, DynamoSlotStore, claim_recorded_references};
    use callbook_core::{Reservation, SlotStore, cells_for};

    let moto = Moto::start();
    let sdk = moto.sdk_config().await;
    let client = aws_sdk_dynamodb::Client::new(&sdk);
    let table = moto.env("webhook", "BOOKINGS_TABLE");
    let old = BookingReference::derive(b"recorded before the upgrade");
    client
        .put_item()
        .table_name(&table)
        .set_item(Some(callbook_aws::dynamo::booking_key(
            "default",
            old.as_str(),
        )))
        .send()
        .await
        .unwrap();
    let first = claim_recorded_references(&client, &table).await.unwrap();
    assert_eq!(
        first,
        Backfill {
            bookings: 1,
            claimed: 1
        }
    );
    let again = claim_recorded_references(&client, &table).await.unwrap();
    assert_eq!(
        again,
        Backfill {
            bookings: 1,
            claimed: 0
        }
    );
    let slots = DynamoSlotStore::new(client, table);
    let cells = cells_for(
        chrono_tz::America::New_York
            .with_ymd_and_hms(2026, 11, 25, 9, 0, 0)
            .unwrap(),
        60,
        30,
    );
    assert_eq!(
        slots
            .reserve_new("default", &cells, 1, &old, "h", "a new request")
            .await,
        Ok(Reservation::ReferenceTaken)
    );
}

#[tokio::test]
async fn daily_figures_count_by_the_hour_in_one_item_per_business_and_day() {
    use callbook_aws::figures::{DynamoFigures, figures_key};
    use callbook_core::{CallOutcome, DailyFigures, Figure, LeadGrade};

    let moto = Moto::start();
    let sdk = moto.sdk_config().await;
    let client = aws_sdk_dynamodb::Client::new(&sdk);
    let table = moto.env("booking-worker", "BUSINESSES_TABLE");
    let figures = DynamoFigures::new(client.clone(), table.clone());
    let at = |day: u32, hour: u32| Utc.with_ymd_and_hms(2026, 11, day, hour, 30, 0).unwrap();

    // Day 24: two bookings at 07:xx, one at 09:xx with a call and two leads; day 25: one.
    figures
        .add("clinic", at(24, 7), &[Figure::Bookings])
        .await
        .unwrap();
    figures
        .add("clinic", at(24, 7), &[Figure::Bookings, Figure::TextsSent])
        .await
        .unwrap();
    figures
        .add(
            "clinic",
            at(24, 9),
            &[
                Figure::Bookings,
                Figure::Calls(CallOutcome::Booked),
                Figure::Leads(LeadGrade::Hot),
                Figure::Leads(LeadGrade::Hot),
            ],
        )
        .await
        .unwrap();
    figures
        .add("clinic", at(25, 1), &[Figure::Bookings])
        .await
        .unwrap();
    figures
        .add("other", at(24, 7), &[Figure::Bookings])
        .await
        .unwrap();
    figures.add("clinic", at(24, 7), &[]).await.unwrap();

    // One item per business and day, with day and hour counters.
    let item = client
        .get_item()
        .table_name(&table)
        .set_key(Some(figures_key("clinic", at(24, 0).date_naive())))
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    let n = |name: &str| item.get(name).and_then(|v| v.as_n().ok()).cloned();
    assert_eq!(n("bookings").as_deref(), Some("3"));
    assert_eq!(n("h07_bookings").as_deref(), Some("2"));
    assert_eq!(n("h09_leads_hot").as_deref(), Some("2"));

    let counts = |from, to| figures.counts("clinic", from, to);
    // Only the hours in range: 07:00-08:59 of the 24th.
    let morning = counts(at(24, 7), at(24, 8)).await.unwrap();
    assert_eq!(morning.get("bookings"), Some(&2));
    assert_eq!(morning.get("texts_sent"), Some(&1));
    assert_eq!(morning.get("leads_hot"), None);
    // The whole 24th and the first hours of the 25th: the day counter and one hour.
    let two_days = counts(at(24, 0), at(25, 1)).await.unwrap();
    assert_eq!(two_days.get("bookings"), Some(&4));
    assert_eq!(
        two_days.get(&Figure::Calls(CallOutcome::Booked).key()),
        Some(&1)
    );
    assert_eq!(two_days.get("leads_hot"), Some(&2));
    // A week with no figures, and a reversed range.
    assert!(counts(at(10, 0), at(17, 0)).await.unwrap().is_empty());
    assert!(counts(at(25, 0), at(24, 0)).await.unwrap().is_empty());
}

#[tokio::test]
async fn follow_up_schedules_are_created_moved_and_deleted_in_the_stacks_group() {
    use callbook_aws::schedules::EventBridgeSchedules;
    use callbook_core::{AppointmentEndedJob, FollowUpJob, FollowUpSchedules, QueueJob};

    let moto = Moto::start();
    let sdk = moto.sdk_config().await;
    let client = aws_sdk_scheduler::Client::new(&sdk);
    let env = |name: &str| Some(moto.env("booking-worker", name));
    let schedules = EventBridgeSchedules::from_lookup(client.clone(), &env).unwrap();
    let group = moto.env("booking-worker", "SCHEDULE_GROUP");
    let ended = |due: &str| {
        FollowUpJob::AppointmentEnded(AppointmentEndedJob {
            business_id: "default".into(),
            reference: BookingReference::parse("K7P2X9").unwrap(),
            start_utc: now() + Duration::days(1),
            due_at: due.parse().unwrap(),
        })
    };
    let first = ended("2026-11-25T16:00:00Z");
    let name = first.schedule_name();
    let read = || async {
        client
            .get_schedule()
            .group_name(&group)
            .name(&name)
            .send()
            .await
    };

    schedules.put(&first).await.unwrap();
    let got = read().await.unwrap();
    assert_eq!(
        (
            got.schedule_expression(),
            got.schedule_expression_timezone(),
            got.action_after_completion().map(|a| a.as_str()),
        ),
        (Some("at(2026-11-25T16:00:00)"), Some("UTC"), Some("DELETE"))
    );
    let target = got.target().unwrap();
    assert_eq!(
        target.arn(),
        moto.env("booking-worker", "FOLLOWUP_QUEUE_ARN")
    );
    assert_eq!(
        target.role_arn(),
        moto.env("booking-worker", "SCHEDULER_ROLE_ARN")
    );
    assert_eq!(
        FollowUpJob::parse(target.input().unwrap()).unwrap(),
        first,
        "the job travels whole"
    );

    // Put again for another time (the booking moved): the same schedule, moved.
    let moved = ended("2026-11-27T16:00:00Z");
    schedules.put(&moved).await.unwrap();
    schedules.put(&moved).await.unwrap();
    let got = read().await.unwrap();
    assert_eq!(got.schedule_expression(), Some("at(2026-11-27T16:00:00)"));
    assert_eq!(
        FollowUpJob::parse(got.target().unwrap().input().unwrap()).unwrap(),
        moved
    );

    // Deleted, then deleted again (fired meanwhile): both fine.
    schedules.delete(&name).await.unwrap();
    assert!(read().await.is_err(), "gone");
    schedules.delete(&name).await.unwrap();

    // Another group's name is refused, as a typed port error.
    let elsewhere = EventBridgeSchedules::new(
        client.clone(),
        "no-such-group".into(),
        moto.env("booking-worker", "FOLLOWUP_QUEUE_ARN"),
        moto.env("booking-worker", "SCHEDULER_ROLE_ARN"),
        moto.env("booking-worker", "FOLLOWUP_DLQ_ARN"),
    );
    assert!(matches!(
        elsewhere.put(&first).await,
        Err(PortError::Unavailable { .. })
    ));
}
