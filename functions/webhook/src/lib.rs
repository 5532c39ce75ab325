//! The webhook Lambda: `POST /vapi-webhook` (Vapi server messages) and `GET /monitoring/health`.
//!
//! Order matters: authenticate before anything else is done with the body, then parse,
//! validate, enqueue, and answer only once SQS has accepted every job the answer promises.

use callbook_aws::SdkConfig;
use callbook_aws::business::DynamoBusinessDirectory;
use callbook_aws::dynamo::DynamoBookingStore;
use callbook_aws::health::AwsHealthProbe;
use callbook_aws::idempotency::DynamoIdempotencyStore;
use callbook_aws::secrets::SsmSecretStore;
use callbook_aws::slots::DynamoSlotStore;
use callbook_aws::sqs::SqsJobQueue;
use callbook_core::auth::{
    AuthError, Authenticator, WebhookSecret, bearer_matches, stored_deployment_secrets,
};
use callbook_core::availability::{
    AvailabilityRequest, availability_answer, availability_request, free_starts,
    fully_booked_answer,
};
use callbook_core::booking::{
    BookingRecord, BookingRefusal, book_appointment_request, bookable_start, booking_confirmation,
};
use callbook_core::business::{Business, ConfigError, is_route_id, required, setting};
use callbook_core::calls::{CallReport, CallStatus};
use callbook_core::changes::{
    BookingLookup, Requester, appointments_answer, appointments_phone, cancel_confirmation,
    cancel_request, choose_booking, reschedule_confirmation, reschedule_request,
};
use callbook_core::dates::spoken_datetime;
use callbook_core::jobs::{
    AnalyticsJob, BookingChange, BookingChangeJob, BookingJob, Job, JobKind,
};
use callbook_core::leads::{capture_lead_request, lead_confirmation};
use callbook_core::ports::{
    BookingStore, BusinessDirectory, Claim, Clock, HealthProbe, IdempotencyStore, JobQueue,
    PortError, Reservation, SecretStore, SlotStore, SystemClock, business_for_call,
};
use callbook_core::redact::redact_text;
use callbook_core::reference::{BookingReference, stable_id};
use callbook_core::slots::{SlotCell, cells_for};
use callbook_core::vapi::{
    CallContext, ToolCall, ToolOutcome, WebhookMessage, call_routes, parse_json, read_webhook,
    single_call_response, tool_calls_response,
};
use chrono::Utc;
use chrono::{Datelike, NaiveDate};
use lambda_http::http::{Method, StatusCode, header};
use lambda_http::{Body, Request, Response};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use tracing::{error, info, warn};

pub const WEBHOOK_PATH: &str = "/vapi-webhook";
/// The largest body accepted (256 KiB): Vapi's largest messages, end-of-call reports of long
/// calls, stay well below it.
pub const DEFAULT_MAX_BODY_BYTES: usize = 256 * 1024;
pub const HEALTH_PATH: &str = "/monitoring/health";
pub const MONITORING_PREFIX: &str = "/monitoring/";

/// Who is booking what: a hash of business, phone, start and service (no phone in clear).
/// The same caller asking again for the same time and service finds the booking they have.
fn holder_tag(
    business: &Business,
    phone: &callbook_core::phone::PhoneNumber,
    start: &chrono::DateTime<impl chrono::TimeZone>,
    service: &str,
) -> String {
    stable_id(
        format!(
            "{}|{}|{}|{}",
            business.id,
            phone,
            start.with_timezone(&Utc).to_rfc3339(),
            service.to_lowercase()
        )
        .as_bytes(),
    )
}

/// What the caller hears when the business a call is for cannot be looked up.
const DIRECTORY_PROBLEM: &str =
    "I'm sorry, I can't reach our booking system just now. Please try again in a moment.";
/// What the caller hears when availability cannot be read.
const CALENDAR_PROBLEM: &str =
    "I'm sorry, I can't check the calendar just now. Please try again in a moment.";
/// What the caller hears when a lead could not be handed to the queue.
const LEAD_PROBLEM: &str =
    "I'm sorry, I couldn't pass that on because of a system problem. Please try again in a moment.";
/// What the caller hears when the same tool call is still being answered elsewhere.
const STILL_WORKING: &str =
    "I'm still working on that request; please give me a moment and ask again.";
/// Answers that say a system failed: not remembered, so a retry runs the tool again.
const TRANSIENT: &[&str] = &[
    SYSTEM_PROBLEM,
    CHANGE_PROBLEM,
    LOOKUP_PROBLEM,
    DIRECTORY_PROBLEM,
    CALENDAR_PROBLEM,
    LEAD_PROBLEM,
    STILL_WORKING,
];
/// How long a tool call's answer is remembered, and how long a claim on it may run.
const REMEMBER_ANSWER: chrono::Duration = chrono::Duration::hours(1);
const ANSWER_CLAIM: chrono::Duration = chrono::Duration::seconds(30);
/// How long a repeat waits for the first delivery's answer before saying so.
const WAIT_FOR_ANSWER: std::time::Duration = std::time::Duration::from_secs(2);

/// What the caller hears when their bookings cannot be read.
const LOOKUP_PROBLEM: &str =
    "I'm sorry, I can't look up bookings just now. Please try again in a moment.";
/// What the caller hears when a change could not be handed to the queue.
const CHANGE_PROBLEM: &str = "I'm sorry, I couldn't make that change because of a system problem. Please try again in a moment.";

/// What the caller hears when a booking could not be handed to the queue.
const SYSTEM_PROBLEM: &str = "I'm sorry, I couldn't save that booking because of a system problem. Please try again in a moment.";

pub struct Webhook<Q, S, B, D, I, H, C, K> {
    /// How Vapi proves a request is its own (shared secret or HMAC; see `auth`).
    pub auth: Authenticator,
    /// Businesses' own webhook secrets, by the reference their profile holds.
    pub secrets: K,
    /// Opens the monitoring routes (`Authorization: Bearer <token>`); without it only the
    /// minimal health status is served.
    pub monitoring_token: Option<WebhookSecret>,
    /// Larger bodies are refused with 413 before anything else is done with them.
    pub max_body_bytes: usize,
    /// The install's default business: calls no stored business claims are its.
    pub business: Arc<Business>,
    /// Stored businesses, found by the assistant or phone number a call came through.
    pub directory: D,
    /// Remembers each tool call's answer (see `answer_tool`).
    pub idempotency: I,
    pub queue: Q,
    /// The business calendar: a booking reserves its slots before the caller hears "booked".
    pub slots: S,
    /// Recorded bookings, read to find the one a caller wants to move or cancel.
    pub bookings: B,
    pub health: H,
    pub clock: C,
}

pub type AwsWebhook = Webhook<
    SqsJobQueue,
    DynamoSlotStore,
    DynamoBookingStore,
    DynamoBusinessDirectory,
    DynamoIdempotencyStore,
    AwsHealthProbe,
    SystemClock,
    SsmSecretStore,
>;

/// Builds the webhook with its AWS adapters from configuration (`lookup` reads the environment).
/// The deployment's secret is read here, once, when it is kept in SSM or Secrets Manager.
pub async fn build(
    sdk: &SdkConfig,
    lookup: &impl Fn(&str) -> Option<String>,
) -> Result<AwsWebhook, ConfigError> {
    let secrets = SsmSecretStore::new(aws_sdk_ssm::Client::new(sdk));
    let stored = stored_deployment_secrets(&secrets, lookup).await?;
    let lookup = &|name: &str| {
        stored
            .iter()
            .find(|(stored_name, _)| *stored_name == name)
            .map(|(_, secret)| secret.clone())
            .or_else(|| lookup(name))
    };
    let auth = Authenticator::from_lookup(lookup)?;
    let monitoring_token = match setting(lookup, "MONITORING_TOKEN") {
        None => None,
        Some(token) if token.len() >= 16 => WebhookSecret::new(&token),
        Some(_) => {
            return Err(ConfigError::Invalid {
                name: "MONITORING_TOKEN",
                reason: "at least 16 characters".into(),
            });
        }
    };
    let max_body_bytes = match setting(lookup, "MAX_BODY_BYTES") {
        None => DEFAULT_MAX_BODY_BYTES,
        Some(v) => v
            .parse::<usize>()
            .ok()
            .filter(|n| (1_024..=10_485_760).contains(n))
            .ok_or_else(|| ConfigError::Invalid {
                name: "MAX_BODY_BYTES",
                reason: format!("{v:?}: 1024 to 10485760"),
            })?,
    };
    let business = Business::from_lookup(lookup)?;
    let sqs = aws_sdk_sqs::Client::new(sdk);
    let dynamodb = aws_sdk_dynamodb::Client::new(sdk);
    let booking_queue = required(lookup, "BOOKING_QUEUE_URL")?;
    let analytics_queue = required(lookup, "ANALYTICS_QUEUE_URL")?;
    let named = |pairs: &[(&str, &'static str)]| -> Vec<(String, String)> {
        pairs
            .iter()
            .filter_map(|(name, var)| setting(lookup, var).map(|v| (name.to_string(), v)))
            .collect()
    };
    let tables = named(&[
        ("customers", "CUSTOMERS_TABLE"),
        ("bookings", "BOOKINGS_TABLE"),
        ("idempotency", "IDEMPOTENCY_TABLE"),
        ("calls", "CALLS_TABLE"),
        ("businesses", "BUSINESSES_TABLE"),
    ]);
    let queues = named(&[
        ("booking-queue", "BOOKING_QUEUE_URL"),
        ("notification-queue", "NOTIFICATION_QUEUE_URL"),
        ("analytics-queue", "ANALYTICS_QUEUE_URL"),
        ("booking-dlq", "BOOKING_DLQ_URL"),
        ("notification-dlq", "NOTIFICATION_DLQ_URL"),
        ("analytics-dlq", "ANALYTICS_DLQ_URL"),
    ]);
    Ok(Webhook {
        auth,
        secrets,
        monitoring_token,
        max_body_bytes,
        business: Arc::new(business),
        directory: DynamoBusinessDirectory::new(
            dynamodb.clone(),
            required(lookup, "BUSINESSES_TABLE")?,
        ),
        idempotency: DynamoIdempotencyStore::new(
            dynamodb.clone(),
            required(lookup, "IDEMPOTENCY_TABLE")?,
        ),
        queue: SqsJobQueue::new(
            sqs.clone(),
            vec![
                (JobKind::Booking, booking_queue),
                (JobKind::Analytics, analytics_queue),
            ],
        ),
        slots: DynamoSlotStore::new(dynamodb.clone(), required(lookup, "BOOKINGS_TABLE")?),
        bookings: DynamoBookingStore::new(
            dynamodb.clone(),
            required(lookup, "CUSTOMERS_TABLE")?,
            required(lookup, "BOOKINGS_TABLE")?,
        ),
        health: AwsHealthProbe::new(dynamodb, sqs, tables, queues),
        clock: SystemClock,
    })
}

fn json_response(status: StatusCode, body: &Value) -> Response<Body> {
    let mut response = Response::new(Body::Text(body.to_string()));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    response
}

fn client_error(status: StatusCode, what: impl std::fmt::Display) -> Response<Body> {
    json_response(status, &json!({ "error": what.to_string() }))
}

/// JSON, with or without parameters (`application/json; charset=utf-8`), or `application/*+json`.
fn is_json_content_type(value: &[u8]) -> bool {
    let media = value
        .split(|b| *b == b';')
        .next()
        .unwrap_or_default()
        .trim_ascii();
    let media = String::from_utf8_lossy(media).to_ascii_lowercase();
    media == "application/json" || (media.starts_with("application/") && media.ends_with("+json"))
}

impl<Q, S, B, D, I, H, C, K> Webhook<Q, S, B, D, I, H, C, K>
where
    Q: JobQueue,
    S: SlotStore,
    B: BookingStore,
    D: BusinessDirectory,
    I: IdempotencyStore,
    H: HealthProbe,
    C: Clock,
    K: SecretStore,
{
    pub async fn handle(&self, request: Request) -> Response<Body> {
        let path = request.uri().path().trim_end_matches('/');
        match (request.method(), path) {
            (&Method::POST, WEBHOOK_PATH) => self.vapi_webhook(&request).await,
            (&Method::GET, HEALTH_PATH) => {
                let detailed = self.monitoring_authorized(&request);
                self.health(detailed).await
            }
            // Every other monitoring route needs the token; none but health is served yet.
            (&Method::GET, p) if p.starts_with(MONITORING_PREFIX) => {
                if self.monitoring_authorized(&request) {
                    client_error(StatusCode::NOT_FOUND, format!("no monitoring report {p}"))
                } else {
                    warn!(path = %p, "monitoring request rejected: authentication");
                    client_error(
                        StatusCode::UNAUTHORIZED,
                        "send Authorization: Bearer <monitoring token>",
                    )
                }
            }
            (_, WEBHOOK_PATH | HEALTH_PATH) => client_error(
                StatusCode::METHOD_NOT_ALLOWED,
                "method not allowed on this route",
            ),
            _ => client_error(
                StatusCode::NOT_FOUND,
                format!("no route for {} {path}", request.method()),
            ),
        }
    }

    async fn vapi_webhook(&self, request: &Request) -> Response<Body> {
        let headers = request.headers();
        let body = request.body().as_ref();
        // The size first (it costs nothing), so nothing large is hashed or parsed.
        if body.len() > self.max_body_bytes {
            warn!(bytes = body.len(), "webhook rejected: body too large");
            return client_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("the body is larger than {} bytes", self.max_body_bytes),
            );
        }
        // Read as JSON only to find the business whose secret must sign it (see `call_routes`);
        // nothing else is read or done before authentication.
        let json = parse_json(body);
        let own_secrets = match &json {
            Ok(value) => match self.business_secrets(value).await {
                Ok(secrets) => secrets,
                Err(response) => return response,
            },
            Err(_) => None,
        };
        let header = |name: &str| headers.get(name).map(|v| v.as_bytes());
        let checked = match &own_secrets {
            Some(secrets) => self
                .auth
                .check_with(secrets, header, body, self.clock.now()),
            None => self.auth.check(header, body, self.clock.now()),
        };
        if let Err(e) = checked {
            warn!(
                reason = %e,
                business_secret = own_secrets.is_some(),
                "webhook rejected: authentication"
            );
            let text = match e {
                AuthError::Invalid => "invalid webhook credentials".to_string(),
                other => other.to_string(),
            };
            return client_error(StatusCode::UNAUTHORIZED, text);
        }
        if let Some(ct) = headers.get(header::CONTENT_TYPE)
            && !is_json_content_type(ct.as_bytes())
        {
            let got = String::from_utf8_lossy(ct.as_bytes());
            return client_error(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                format!("the body must be JSON (Content-Type: application/json), not {got}"),
            );
        }
        let message = match json.and_then(read_webhook) {
            Ok(m) => m,
            Err(e) => {
                warn!(reason = %e, "webhook rejected: unreadable body");
                return client_error(StatusCode::BAD_REQUEST, e);
            }
        };
        let body = match message {
            WebhookMessage::ToolCalls { call, tool_calls } => {
                let business = self.business_of(&call).await;
                let mut answers = Vec::with_capacity(tool_calls.len());
                for tool_call in &tool_calls {
                    let outcome = match &business {
                        Ok(business) => self.answer_tool(business, &call, tool_call).await,
                        Err(_) => ToolOutcome::Error(DIRECTORY_PROBLEM.into()),
                    };
                    answers.push((tool_call, outcome));
                }
                tool_calls_response(&answers)
            }
            WebhookMessage::SingleCall { call, tool_call } => {
                let outcome = match self.business_of(&call).await {
                    Ok(business) => self.answer_tool(&business, &call, &tool_call).await,
                    Err(_) => ToolOutcome::Error(DIRECTORY_PROBLEM.into()),
                };
                single_call_response(&outcome)
            }
            WebhookMessage::AssistantRequest { call } => match self.business_of(&call).await {
                Ok(business) => self.assistant_request(&business, &call),
                Err(_) => json!({ "error": DIRECTORY_PROBLEM }),
            },
            WebhookMessage::TransferDestinationRequest { call } => {
                match self.business_of(&call).await {
                    Ok(business) => self.transfer_destination(&business, &call),
                    Err(_) => json!({ "error": DIRECTORY_PROBLEM }),
                }
            }
            WebhookMessage::EndOfCallReport(report) => {
                let Ok(business) = self.business_of(&report.call).await else {
                    return client_error(StatusCode::SERVICE_UNAVAILABLE, DIRECTORY_PROBLEM);
                };
                let now = self.clock.now();
                info!(
                    call_id = ?report.call.call_id,
                    ended_reason = ?report.ended_reason,
                    duration_seconds = ?report.duration_seconds(),
                    "end-of-call report received"
                );
                let job =
                    CallReport::from_report(&report, &business, now).map(AnalyticsJob::CallReport);
                if let Err(response) = self.record_call(job, "end-of-call report").await {
                    return response;
                }
                json!({})
            }
            WebhookMessage::StatusUpdate(update) => {
                info!(call_id = ?update.call.call_id, status = %update.status, "status update received");
                let Ok(business) = self.business_of(&update.call).await else {
                    return client_error(StatusCode::SERVICE_UNAVAILABLE, DIRECTORY_PROBLEM);
                };
                let job = CallStatus::from_update(&update, &business, self.clock.now())
                    .map(AnalyticsJob::CallStatus);
                if let Err(response) = self.record_call(job, "status update").await {
                    return response;
                }
                json!({})
            }
            WebhookMessage::Notice { .. } => json!({}),
            WebhookMessage::Other { kind } => {
                info!(message_type = %kind, "unknown message type acknowledged");
                json!({})
            }
        };
        json_response(StatusCode::OK, &body)
    }

    /// The business's own secrets when the call is for a business that has them; `None` when
    /// the deployment's secret applies. Route ids that no business could have
    /// ([`is_route_id`]) are not looked up, so a stranger's body cannot make us
    /// query or cache arbitrary keys. A business whose secret cannot be read gets 503.
    async fn business_secrets(
        &self,
        body: &Value,
    ) -> Result<Option<Vec<WebhookSecret>>, Response<Body>> {
        let routable = |id: &&str| is_route_id(id);
        let (assistant, phone_number) = call_routes(body);
        let (assistant, phone_number) = (assistant.filter(routable), phone_number.filter(routable));
        if assistant.is_none() && phone_number.is_none() {
            return Ok(None);
        }
        let unavailable = || {
            client_error(
                StatusCode::SERVICE_UNAVAILABLE,
                "the webhook cannot check credentials just now; try again",
            )
        };
        let business = business_for_call(&self.directory, &self.business, assistant, phone_number)
            .await
            .map_err(|e| {
                error!(error = %e, "the call's business could not be looked up to authenticate it");
                unavailable()
            })?;
        if business.webhook_secrets.is_empty() {
            return Ok(None);
        }
        let mut secrets = Vec::with_capacity(business.webhook_secrets.len());
        for reference in &business.webhook_secrets {
            let secret = self.secrets.secret(reference).await.map_err(|e| {
                error!(business = %business.id, error = %e, "a business's webhook secret could not be read");
                unavailable()
            })?;
            secrets.extend(WebhookSecret::new(&secret));
        }
        Ok(Some(secrets))
    }

    /// The business this call is for (see `business_for_call`); a failed lookup is logged.
    async fn business_of(&self, call: &CallContext) -> Result<Arc<Business>, PortError> {
        business_for_call(
            &self.directory,
            &self.business,
            call.assistant_id.as_deref(),
            call.phone_number_id.as_deref(),
        )
        .await
        .inspect_err(|e| error!(error = %e, "the call's business could not be looked up"))
    }

    /// A tool call answered once: the same call id and tool-call id again (Vapi or a proxy
    /// delivering it twice) gets the stored answer; the same ids with other arguments are
    /// refused; a repeat while the first is still running waits for its answer (about 2 s).
    /// Calls without an id, and answers that report a system failure, are not remembered.
    async fn answer_tool(
        &self,
        business: &Business,
        call: &CallContext,
        tool_call: &ToolCall,
    ) -> ToolOutcome {
        let Some(id) = tool_call.id.as_deref().filter(|id| !id.is_empty()) else {
            return self.run_tool(business, call, tool_call).await;
        };
        let key = format!(
            "tool#{}#{}#{}",
            business.id,
            call.call_id.as_deref().unwrap_or_default(),
            id
        );
        // The tool and its arguments; not timestamps or the call's status.
        let arguments = match &tool_call.arguments {
            Ok(map) => serde_json::to_string(map).unwrap_or_default(),
            Err(problem) => problem.clone(),
        };
        let hash = stable_id(format!("{}|{arguments}", tool_call.name).as_bytes());
        let waited = std::time::Instant::now();
        loop {
            let claim = self
                .idempotency
                .claim(&key, &hash, self.clock.now(), ANSWER_CLAIM)
                .await;
            match claim {
                Ok(Claim::Acquired) => {
                    let outcome = self.run_tool(business, call, tool_call).await;
                    let remembered = match &outcome {
                        ToolOutcome::Error(text) if TRANSIENT.contains(&text.as_str()) => None,
                        other => Some(other.to_json()),
                    };
                    let stored = match remembered {
                        Some(json) => {
                            self.idempotency
                                .complete(&key, &hash, &json, self.clock.now(), REMEMBER_ANSWER)
                                .await
                        }
                        None => self.idempotency.release(&key).await,
                    };
                    if let Err(e) = stored {
                        // The answer stands; a repeat runs again and meets the tools' own
                        // duplicate checks (a booking's reference, the calendar's claims).
                        warn!(error = %e, "tool answer not remembered");
                    }
                    return outcome;
                }
                Ok(Claim::Completed(json)) => {
                    info!(tool = %tool_call.name, "repeated tool call: the first answer is given again");
                    return ToolOutcome::from_json(&json)
                        .unwrap_or_else(|| ToolOutcome::Error(SYSTEM_PROBLEM.into()));
                }
                Ok(Claim::Mismatch) => {
                    warn!(tool = %tool_call.name, "tool-call id reused with other arguments");
                    return ToolOutcome::Error(
                        "That request was already made with other details; please ask again."
                            .into(),
                    );
                }
                Ok(Claim::InProgress) if waited.elapsed() < WAIT_FOR_ANSWER => {
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
                Ok(Claim::InProgress) => return ToolOutcome::Error(STILL_WORKING.into()),
                Err(e) => {
                    // Without the store the tool still runs: its own checks prevent doubles.
                    warn!(error = %e, "idempotency store unavailable; answering without it");
                    return self.run_tool(business, call, tool_call).await;
                }
            }
        }
    }

    async fn run_tool(
        &self,
        business: &Business,
        call: &CallContext,
        tool_call: &ToolCall,
    ) -> ToolOutcome {
        let args = match &tool_call.arguments {
            Ok(args) => args,
            Err(problem) => {
                warn!(tool = %tool_call.name, %problem, "tool call rejected");
                return ToolOutcome::Error(
                    "I couldn't read the details of that request; could you repeat them?".into(),
                );
            }
        };
        let outcome = match tool_call.name.as_str() {
            "bookAppointment" => self.book_appointment(business, call, tool_call, args).await,
            "checkAvailability" => self.check_availability(business, call, args).await,
            "rescheduleAppointment" => {
                self.reschedule_appointment(business, call, tool_call, args)
                    .await
            }
            "cancelAppointment" => {
                self.cancel_appointment(business, call, tool_call, args)
                    .await
            }
            "getAppointments" => self.get_appointments(business, call, args).await,
            "captureLead" => self.capture_lead(business, call, tool_call, args).await,
            other => ToolOutcome::Error(format!(
                "I can't do that here: the tool {other:?} is not available."
            )),
        };
        match &outcome {
            ToolOutcome::Result(_) => {
                info!(tool = %tool_call.name, call_id = ?call.call_id, "tool call answered")
            }
            ToolOutcome::Error(text) => {
                info!(tool = %tool_call.name, call_id = ?call.call_id, refusal = %redact_text(text), "tool call refused")
            }
        }
        outcome
    }

    async fn book_appointment(
        &self,
        business: &Business,
        call: &CallContext,
        tool_call: &ToolCall,
        args: &serde_json::Map<String, Value>,
    ) -> ToolOutcome {
        let now = self.clock.now();
        let request = match book_appointment_request(args, call, business, now) {
            Ok(r) => r,
            Err(refusal) => return ToolOutcome::Error(self.explain(business, refusal, now).await),
        };
        let cells = cells_for(
            request.start,
            request.service.minutes,
            business.slot_minutes,
        );
        // Who is booking what: the same caller asking again for the same time and service (a
        // re-issued call under a new id, or the flat form without ids) gets the booking they
        // have. The reservation checks it atomically, so concurrent repeats book once.
        let holder = holder_tag(
            business,
            &request.customer.phone,
            &request.start,
            &request.service.name,
        );
        let reference = self.booking_reference(business, call, tool_call);
        let reference = match self
            .slots
            .reserve(&business.id, &cells, business.capacity, &reference, &holder)
            .await
        {
            Ok(Reservation::Reserved) => reference,
            // A retry of this very call: its reservation stands, and so may its queued job.
            Ok(Reservation::AlreadyReserved) => reference,
            // Enqueued again below: if the first attempt never got its job onto the queue, this
            // one does (the worker records a booking once).
            Ok(Reservation::HeldBy(existing)) => {
                info!(reference = %existing, "repeated booking request: the existing booking is returned");
                existing
            }
            Ok(Reservation::Full) => {
                let refusal = BookingRefusal::taken(request.start, request.service.minutes);
                return ToolOutcome::Error(self.explain(business, refusal, now).await);
            }
            Err(e) => {
                error!(error = %e, reference = %reference, "slots could not be reserved");
                return ToolOutcome::Error(SYSTEM_PROBLEM.into());
            }
        };
        // One job id per booking, so every enqueue of it is recorded once.
        let job_id = format!("{}#{}", business.id, reference);
        let job = BookingJob {
            job_id,
            business_id: business.id.clone(),
            business_name: business.name.clone(),
            reference: reference.clone(),
            customer: request.customer.clone(),
            service: request.service.name.clone(),
            duration_minutes: request.service.minutes,
            price_cents: request.service.price_cents,
            start_utc: request.start.with_timezone(&Utc),
            start_local: request.start.fixed_offset(),
            time_zone: business.zone.name().to_string(),
            slot_cells: cells.clone(),
            call_id: call.call_id.clone(),
            tool_call_id: tool_call.id.clone(),
            requested_at: now,
            owner: business.owner_recipients(),
            holder: Some(holder),
        };
        if let Err(e) = self.queue.enqueue(&[Job::Booking(job)]).await {
            // The slot stays held: SQS may have stored the job despite the error, or a
            // concurrent repeat of this request may have queued it, and freeing it could let a
            // second caller double-book. The caller is asked to try again; their retry finds
            // this reservation (held_by) and enqueues the job. The cost is a held slot if they
            // never do: better than a double booking.
            error!(error = %e, reference = %reference, "booking job not accepted by the queue; slot kept");
            return ToolOutcome::Error(SYSTEM_PROBLEM.into());
        }
        info!(reference = %reference, phone = %request.customer.phone.redacted(), start = %request.start, "booking accepted");
        ToolOutcome::Result(booking_confirmation(&request, &reference))
    }

    /// Hands a call's report or status to the analytics worker. A message without a call id
    /// has nothing to key a record by: acknowledged and logged. `Err` is the HTTP answer when
    /// the queue refused it (503, so Vapi's retry, when configured, delivers it again).
    async fn record_call(
        &self,
        job: Option<AnalyticsJob>,
        what: &'static str,
    ) -> Result<(), Response<Body>> {
        let Some(job) = job else {
            warn!(
                message = what,
                "call message without a call id: not recorded"
            );
            return Ok(());
        };
        self.queue
            .enqueue(&[Job::Analytics(job)])
            .await
            .map_err(|e| {
                error!(error = %e, message = what, "call message not accepted by the queue");
                client_error(
                    StatusCode::SERVICE_UNAVAILABLE,
                    format!("the {what} could not be queued; please retry"),
                )
            })
    }

    /// The caller's booking a change is about: read by reference (GetItem) or from their
    /// upcoming bookings (Query on the customer index). `Err` is what the caller hears.
    async fn find_booking(
        &self,
        business: &Business,
        lookup: &BookingLookup,
        requester: &Requester,
        now: chrono::DateTime<Utc>,
    ) -> Result<BookingRecord, String> {
        let found = match lookup {
            BookingLookup::Reference(reference) => self
                .bookings
                .booking(&business.id, reference)
                .await
                .map(|b| b.into_iter().collect::<Vec<_>>()),
            BookingLookup::Phone(phone) => {
                self.bookings.bookings_of(&business.id, phone, now).await
            }
        };
        let found = found.map_err(|e| {
            error!(error = %e, "bookings could not be read");
            LOOKUP_PROBLEM.to_string()
        })?;
        choose_booking(lookup, &found, requester, business, now).cloned()
    }

    /// rescheduleAppointment: reserve the new time first (atomically, like a booking), then
    /// hand the change to the booking worker, which frees the old time.
    async fn reschedule_appointment(
        &self,
        business: &Business,
        call: &CallContext,
        tool_call: &ToolCall,
        args: &serde_json::Map<String, Value>,
    ) -> ToolOutcome {
        let now = self.clock.now();
        let request = match reschedule_request(args, call, business) {
            Ok(r) => r,
            Err(spoken) => return ToolOutcome::Error(spoken),
        };
        let booking = match self
            .find_booking(business, &request.lookup, &request.requester, now)
            .await
        {
            Ok(b) => b,
            Err(spoken) => return ToolOutcome::Error(spoken),
        };
        let minutes = booking.duration_minutes;
        let start = match bookable_start(&request.date, &request.time, minutes, call, business, now)
        {
            Ok(start) => start,
            Err(refusal) => return ToolOutcome::Error(self.explain(business, refusal, now).await),
        };
        if start.with_timezone(&Utc) == booking.start_utc {
            return ToolOutcome::Error(format!(
                "Your {} is already booked for {}.",
                booking.service,
                spoken_datetime(&start)
            ));
        }
        let cells = cells_for(start, minutes, business.slot_minutes);
        // Cells the booking already holds stay its own; only the others are reserved.
        let needed: Vec<SlotCell> = cells
            .iter()
            .filter(|c| !booking.slot_cells.contains(c))
            .copied()
            .collect();
        // The new time's holder claim moves onto the booking when the change applies; the
        // reservation itself is tagged by this reschedule, so a repeat of it finds its hold.
        let holder = holder_tag(business, &booking.customer_phone, &start, &booking.service);
        let reschedule_tag = stable_id(
            format!(
                "reschedule|{}|{}|{}",
                business.id,
                booking.reference,
                start.with_timezone(&Utc).to_rfc3339()
            )
            .as_bytes(),
        );
        // The caller may already have another booking at that time for that service.
        if let Some(first) = cells.first() {
            match self.slots.held_by(&business.id, first, &holder).await {
                Ok(Some(other)) if other != booking.reference => {
                    return ToolOutcome::Error(format!(
                        "You already have a {} booked for {}, reference {}.",
                        booking.service,
                        spoken_datetime(&start),
                        other.spoken()
                    ));
                }
                Ok(_) => {}
                Err(e) => {
                    error!(error = %e, "the calendar could not be read");
                    return ToolOutcome::Error(CHANGE_PROBLEM.into());
                }
            }
        }
        if !needed.is_empty() {
            match self
                .slots
                .reserve(
                    &business.id,
                    &needed,
                    business.capacity,
                    &booking.reference,
                    &reschedule_tag,
                )
                .await
            {
                Ok(Reservation::Reserved | Reservation::AlreadyReserved) => {}
                Ok(Reservation::HeldBy(other)) => {
                    return ToolOutcome::Error(format!(
                        "You already have a {} booked for {}, reference {}.",
                        booking.service,
                        spoken_datetime(&start),
                        other.spoken()
                    ));
                }
                Ok(Reservation::Full) => {
                    let refusal = BookingRefusal::taken(start, minutes);
                    return ToolOutcome::Error(self.explain(business, refusal, now).await);
                }
                Err(e) => {
                    error!(error = %e, reference = %booking.reference, "new slots could not be reserved");
                    return ToolOutcome::Error(CHANGE_PROBLEM.into());
                }
            }
        }
        let seed = format!(
            "{}|{}|{}",
            call.call_id.as_deref().unwrap_or_default(),
            tool_call.id.as_deref().unwrap_or_default(),
            start.with_timezone(&Utc).to_rfc3339()
        );
        let job = BookingChangeJob {
            job_id: format!(
                "{}#{}#reschedule#{}",
                business.id,
                booking.reference,
                &stable_id(seed.as_bytes())[..12]
            ),
            business_id: business.id.clone(),
            business_name: business.name.clone(),
            reference: booking.reference.clone(),
            change: BookingChange::Reschedule {
                start_utc: start.with_timezone(&Utc),
                start_local: start.fixed_offset(),
                slot_cells: cells,
                reserved: needed,
                holder: Some(holder),
                capacity: business.capacity,
            },
            call_id: call.call_id.clone(),
            tool_call_id: tool_call.id.clone(),
            requested_at: now,
        };
        if let Err(e) = self.queue.enqueue(&[Job::BookingChange(job)]).await {
            // As for a booking: the new time stays held (the caller's retry finds it).
            error!(error = %e, reference = %booking.reference, "reschedule not accepted by the queue; new slots kept");
            return ToolOutcome::Error(CHANGE_PROBLEM.into());
        }
        info!(reference = %booking.reference, start = %start, "reschedule accepted");
        ToolOutcome::Result(reschedule_confirmation(&booking, &start, business))
    }

    /// cancelAppointment: the booking worker marks it cancelled and frees its time.
    async fn cancel_appointment(
        &self,
        business: &Business,
        call: &CallContext,
        tool_call: &ToolCall,
        args: &serde_json::Map<String, Value>,
    ) -> ToolOutcome {
        let now = self.clock.now();
        let request = match cancel_request(args, call, business) {
            Ok(r) => r,
            Err(spoken) => return ToolOutcome::Error(spoken),
        };
        let booking = match self
            .find_booking(business, &request.lookup, &request.requester, now)
            .await
        {
            Ok(b) => b,
            Err(spoken) => return ToolOutcome::Error(spoken),
        };
        let job = BookingChangeJob {
            // One cancel per booking: asking twice is the same change.
            job_id: format!("{}#{}#cancel", business.id, booking.reference),
            business_id: business.id.clone(),
            business_name: business.name.clone(),
            reference: booking.reference.clone(),
            change: BookingChange::Cancel {
                reason: request.reason,
            },
            call_id: call.call_id.clone(),
            tool_call_id: tool_call.id.clone(),
            requested_at: now,
        };
        if let Err(e) = self.queue.enqueue(&[Job::BookingChange(job)]).await {
            error!(error = %e, reference = %booking.reference, "cancel not accepted by the queue");
            return ToolOutcome::Error(CHANGE_PROBLEM.into());
        }
        info!(reference = %booking.reference, "cancel accepted");
        ToolOutcome::Result(cancel_confirmation(&booking, business))
    }

    /// getAppointments: the caller's upcoming bookings, soonest first.
    async fn get_appointments(
        &self,
        business: &Business,
        call: &CallContext,
        args: &serde_json::Map<String, Value>,
    ) -> ToolOutcome {
        let now = self.clock.now();
        let (phone, requester) = match appointments_phone(args, call, business) {
            Ok(p) => p,
            Err(spoken) => return ToolOutcome::Error(spoken),
        };
        match self.bookings.bookings_of(&business.id, &phone, now).await {
            Ok(found) => ToolOutcome::Result(appointments_answer(
                &phone, &found, &requester, business, now,
            )),
            Err(e) => {
                error!(error = %e, "bookings could not be read");
                ToolOutcome::Error(LOOKUP_PROBLEM.into())
            }
        }
    }

    /// captureLead: a lead job for the analytics worker, which merges leads by phone.
    async fn capture_lead(
        &self,
        business: &Business,
        call: &CallContext,
        tool_call: &ToolCall,
        args: &serde_json::Map<String, Value>,
    ) -> ToolOutcome {
        let job = match capture_lead_request(
            args,
            call,
            tool_call.id.as_deref(),
            business,
            self.clock.now(),
        ) {
            Ok(job) => job,
            Err(spoken) => return ToolOutcome::Error(spoken),
        };
        let answer = lead_confirmation(&job, business);
        if let Err(e) = self
            .queue
            .enqueue(&[Job::Analytics(AnalyticsJob::Lead(job))])
            .await
        {
            error!(error = %e, "lead not accepted by the queue");
            return ToolOutcome::Error(LEAD_PROBLEM.into());
        }
        ToolOutcome::Result(answer)
    }

    /// A refusal as the caller hears it: for a time that cannot be had, with the nearest
    /// times that still have room (one Query per day looked at).
    async fn explain(
        &self,
        business: &Business,
        refusal: BookingRefusal,
        now: chrono::DateTime<Utc>,
    ) -> String {
        let candidates = refusal.candidates(business, now);
        let mut days: Vec<NaiveDate> = candidates.iter().map(|c| c.date_naive()).collect();
        days.dedup();
        let mut taken = HashMap::new();
        for day in days {
            match self.taken_on(business, day).await {
                Ok(cells) => taken.extend(cells),
                // Without the calendar, offer nothing rather than times that may be taken.
                Err(e) => {
                    warn!(error = %e, "taken slots could not be read");
                    return refusal.spoken(business, &[], &taken);
                }
            }
        }
        refusal.spoken(business, &candidates, &taken)
    }

    async fn taken_on(
        &self,
        business: &Business,
        day: NaiveDate,
    ) -> Result<HashMap<SlotCell, u32>, PortError> {
        Ok(self
            .slots
            .taken(&business.id, day)
            .await?
            .into_iter()
            .collect())
    }

    /// checkAvailability: a few free times on the day, or the next days that have room.
    async fn check_availability(
        &self,
        business: &Business,
        call: &CallContext,
        args: &serde_json::Map<String, Value>,
    ) -> ToolOutcome {
        let now = self.clock.now();
        let request = match availability_request(args, call, business, now) {
            Ok(r) => r,
            Err(spoken) => return ToolOutcome::Error(spoken),
        };
        let answer = async {
            let free = free_starts(
                business,
                &request,
                now,
                &self.taken_on(business, request.day).await?,
            );
            if !free.is_empty() {
                return Ok::<_, PortError>(availability_answer(&request, &free));
            }
            let mut next = Vec::new();
            for offset in 1..=14 {
                let Some(day) = request
                    .day
                    .checked_add_signed(chrono::Duration::days(offset))
                else {
                    break;
                };
                if !business.hours.is_open_on(day.weekday()) {
                    continue;
                }
                let later = AvailabilityRequest {
                    day,
                    ..request.clone()
                };
                if let Some(first) =
                    free_starts(business, &later, now, &self.taken_on(business, day).await?)
                        .into_iter()
                        .min()
                {
                    next.push(first);
                }
                if next.len() == 2 {
                    break;
                }
            }
            let closed = !business.hours.is_open_on(request.day.weekday());
            Ok(fully_booked_answer(&request, &next, closed))
        };
        match answer.await {
            Ok(text) => ToolOutcome::Result(text),
            Err(e) => {
                error!(error = %e, "availability could not be read");
                ToolOutcome::Error(CALENDAR_PROBLEM.into())
            }
        }
    }

    /// `assistant-request`: the business's assistant, or a sentence Vapi says before hanging up.
    fn assistant_request(&self, business: &Business, call: &CallContext) -> Value {
        match &business.assistant_id {
            Some(id) => {
                info!(phone_number_id = ?call.phone_number_id, "assistant requested");
                json!({ "assistantId": id })
            }
            None => {
                warn!(phone_number_id = ?call.phone_number_id, "assistant requested but VAPI_ASSISTANT_ID is not set");
                json!({ "error": format!("Sorry, {} can't take calls on this line right now. Please try again later.", business.name) })
            }
        }
    }

    /// `transfer-destination-request`: the business's transfer number, or a spoken refusal.
    fn transfer_destination(&self, business: &Business, call: &CallContext) -> Value {
        match &business.transfer_number {
            Some(number) => {
                info!(call_id = ?call.call_id, to = %number.redacted(), "transfer destination given");
                json!({
                    "destination": { "type": "number", "number": number.as_str() },
                    "message": { "type": "request-start", "content": "I'm transferring you now; please hold." },
                })
            }
            None => {
                json!({ "error": "I'm sorry, I can't transfer you to a person right now, but I can take a message or help you book." })
            }
        }
    }

    /// A tool call Vapi delivers again (same call, same tool-call id) gets the same reference,
    /// so the caller hears the same answer. Calls without ids (the flat form) get a fresh one.
    fn booking_reference(
        &self,
        business: &Business,
        call: &CallContext,
        tool_call: &ToolCall,
    ) -> BookingReference {
        match &tool_call.id {
            Some(id) if !id.is_empty() => {
                let seed = format!(
                    "{}|{}|{}",
                    business.id,
                    call.call_id.as_deref().unwrap_or_default(),
                    id
                );
                BookingReference::derive(seed.as_bytes())
            }
            _ => BookingReference::generate(&mut rand::rng()),
        }
    }

    /// `Authorization: Bearer <MONITORING_TOKEN>`, compared in constant time.
    fn monitoring_authorized(&self, request: &Request) -> bool {
        self.monitoring_token.as_ref().is_some_and(|token| {
            bearer_matches(
                token,
                request.headers().get("authorization").map(|v| v.as_bytes()),
            )
        })
    }

    /// The status for anyone (a load balancer or uptime check); each component's detail
    /// (tables, queue and dead-letter depths) only with the monitoring token.
    async fn health(&self, detailed: bool) -> Response<Body> {
        let checks = self.health.check().await;
        let healthy = checks.iter().all(|c| c.healthy);
        let components: serde_json::Map<String, Value> = checks
            .iter()
            .map(|c| {
                (
                    c.name.clone(),
                    json!({ "healthy": c.healthy, "detail": c.detail }),
                )
            })
            .collect();
        let mut body = json!({
            "status": if healthy { "ok" } else { "unavailable" },
            "checkedAt": self.clock.now().to_rfc3339(),
        });
        if detailed {
            body["components"] = Value::Object(components);
        }
        json_response(
            if healthy {
                StatusCode::OK
            } else {
                StatusCode::SERVICE_UNAVAILABLE
            },
            &body,
        )
    }
}

#[cfg(test)]
mod tests;
