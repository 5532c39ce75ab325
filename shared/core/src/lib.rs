//! callbook-core: the Vapi protocol and the booking domain, without I/O and without the AWS
//! SDK, so it compiles and fuzzes fast. I/O lives behind the traits in `ports`.
//!
//! Layers, each using only the ones before it (checked by `tests/layers.rs`):
//! 1. `values`: leaf value types (phone, email, reference, dates, times, hours, slots,
//!    speech, recipient, secrets, config);
//! 2. `vapi`: the protocol (messages, tools, answers, auth);
//! 3. `domain`: businesses, services, bookings and their changes, availability, calls, leads;
//! 4. `jobs`, then `templates`: what the functions pass each other, and how it is written;
//! 5. `metrics` (what the functions measure, and EMF), then `ports`: the I/O the handlers need, as traits;
//! 6. `once`, `resilience`, `deployment`: behaviour built on the ports;
//! 7. `testing` (tests and the `testing` feature only): in-memory ports and `Faulty`.
//!
//! The types callers use most are re-exported here: `callbook_core::BookingRecord`.

pub mod deployment;
pub mod domain;
pub mod jobs;
pub mod metrics;
pub mod once;
pub mod ports;
pub mod resilience;
pub mod templates;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod values;
pub mod vapi;

pub use deployment::stored_deployment_secrets;
pub use values::config::{ConfigError, number, required, setting};
pub use values::countries::{CountryError, TextCountries, country_of};
pub use values::dates::{DateError, resolve_date};
pub use values::email::{EmailAddress, EmailError};
pub use values::name::{CustomerName, NameError};
pub use values::phone::{PhoneError, PhoneNumber, PhoneRegion};
pub use values::recipient::Recipient;
pub use values::redact::redact_text;
pub use values::reference::{BookingReference, stable_id};
pub use values::secrets::SecretRef;
pub use values::slots::{SlotCell, cells_for};
pub use values::speech::{Refusal, spoken_date, spoken_datetime, spoken_list, spoken_time};
pub use values::times::{StartError, TimeError, parse_time, resolve_start};

pub use vapi::answers::{ToolOutcome, single_call_response, tool_calls_response};
pub use vapi::auth::{
    AuthError, AuthMode, Authenticator, HmacAlgorithm, WebhookSecret, bearer_matches,
};
pub use vapi::envelope::{
    CallContext, EndOfCallReport, EnvelopeError, StatusUpdate, ToolCall, UnreadableArguments,
    WebhookMessage, call_routes, parse_json, parse_webhook, read_webhook,
};
pub use vapi::tools::{TOOLS, Tool, ToolSpec};

pub use domain::availability::{
    AvailabilityRequest, availability_answer, availability_request, free_starts,
    fully_booked_answer,
};
pub use domain::booking::{
    Attendance, BookingJob, BookingRecord, BookingRefusal, BookingRequest, BookingStatus,
    CustomerDetails, CustomerRecord, book_appointment_request, bookable_start,
    booking_confirmation,
};
pub use domain::booking_change::{BookingChange, BookingChangeJob, CalendarChange, ChangeDecision};
pub use domain::business::{
    Business, BusinessProfile, ChosenService, MAX_ROUTE_ID_LEN, is_route_id,
};
pub use domain::callers::{
    CODE_ATTEMPTS, CODE_VALID_FOR, CODES_PER_CALL, CODES_PER_HOUR, CODES_PER_NUMBER_PER_HOUR,
    Caller, CallerCode, CodeCheck, CodeIssue, PendingCode, VerifyRequest, units_for_code,
    verify_request,
};
pub use domain::calls::{
    Activity, CallActivity, CallJob, CallOutcome, CallRecord, CallReport, CallStatus,
};
pub use domain::changes::{
    BookingLookup, appointments_answer, appointments_phone, cancel_confirmation, cancel_request,
    choose_booking, reschedule_confirmation, reschedule_request,
};
pub use domain::followups::{
    FollowUpSettings, PlannedReminder, QuietHours, ended_schedule_name, lead_follow_up_due,
    lead_schedule_name, plan_reminders, reminder_schedule_name,
};
pub use domain::leads::{
    LeadGrade, LeadJob, LeadRecord, LeadSignals, LeadSource, LeadStatus, capture_lead_request,
    lead_confirmation,
};
pub use domain::limits::{
    LimitKind, LimitUnit, NO_TEXTS_THERE, TextPermission, limit_reached, texts_today,
    units_for_change,
};
pub use domain::replies::{SmsReply, read_reply};
pub use values::limits::CallerLimits;

pub use jobs::{
    AnalyticsJob, AppointmentEndedJob, BookingQueueMessage, BookingSchedules, BookingSummary,
    Correlated, Correlation, FollowUpJob, Job, JobKind, LeadFollowUpJob, LeadSummary,
    NotificationJob, NotificationKind, OncePolicy, QUEUE_JOB, QueueJob, ReminderJob, ReminderNote,
    SENDING, ScheduledBooking, SmsAnswer, Waiting,
};
pub use metrics::{
    ColdStart, Dimension, Measurement, Metric, MetricsSink, Unit, emf_lines, read_emf,
};
pub use once::{OnceError, Ran, Record, run_once, run_once_by};
pub use ports::{
    AlarmState, AlarmStatus, DailyFigures, Figure, FigureCounts, MetricsReader, Series,
    SeriesQuery, Statistic,
};
pub use ports::{
    BookingStore, BusinessDirectory, CallOwner, CallRoute, CallStore, CallerVerifications,
    ChangeApplied, Claim, Clock, ComponentHealth, CustomerContact, EmailSender, FollowUpSchedules,
    HealthProbe, IdempotencyStore, JobQueue, LastReminders, OptOutList, OptOuts, PortError,
    QuotaTaken, Quotas, RecordOutcome, Reminded, Reservation, Saved, SecretStore, SendFailure,
    SlotStore, SmsSender, business_by_id, business_for_call,
};
pub use templates::RenderedEmail;
