//! The webhook Lambda: `POST /vapi-webhook` (Vapi server messages) and `GET /monitoring/health`.
//!
//! Order matters: authenticate before anything else is done with the body, then parse,
//! validate, enqueue, and answer only once SQS has accepted every job the answer promises.

use callbook_aws::SdkConfig;
use callbook_aws::health::AwsHealthProbe;
use callbook_aws::slots::DynamoSlotStore;
use callbook_aws::sqs::SqsJobQueue;
use callbook_core::auth::{AuthError, WebhookSecret, authenticate};
use callbook_core::availability::{
    AvailabilityRequest, availability_answer, availability_request, free_starts,
    fully_booked_answer,
};
use callbook_core::booking::{BookingRefusal, book_appointment_request, booking_confirmation};
use callbook_core::business::{Business, ConfigError, required, setting};
use callbook_core::jobs::{BookingJob, Job};
use callbook_core::ports::{
    Clock, HealthProbe, JobQueue, PortError, Reservation, SlotStore, SystemClock,
};
use callbook_core::redact::redact_text;
use callbook_core::reference::{BookingReference, stable_id};
use callbook_core::slots::{SlotCell, cells_for};
use callbook_core::vapi::{
    CallContext, ToolCall, ToolOutcome, WebhookMessage, parse_webhook, single_call_response,
    tool_calls_response,
};
use chrono::Utc;
use chrono::{Datelike, NaiveDate};
use lambda_http::http::{Method, StatusCode, header};
use lambda_http::{Body, Request, Response};
use serde_json::{Value, json};
use std::collections::HashMap;
use tracing::{error, info, warn};

pub const WEBHOOK_PATH: &str = "/vapi-webhook";
pub const HEALTH_PATH: &str = "/monitoring/health";

/// What the caller hears when a booking could not be handed to the queue.
const SYSTEM_PROBLEM: &str = "I'm sorry, I couldn't save that booking because of a system problem. Please try again in a moment.";

pub struct Webhook<Q, S, H, C> {
    pub secret: WebhookSecret,
    pub business: Business,
    pub queue: Q,
    /// The business calendar: a booking reserves its slots before the caller hears "booked".
    pub slots: S,
    pub health: H,
    pub clock: C,
}

pub type AwsWebhook = Webhook<SqsJobQueue, DynamoSlotStore, AwsHealthProbe, SystemClock>;

/// Builds the webhook with its AWS adapters from configuration (`lookup` reads the environment).
pub fn build(
    sdk: &SdkConfig,
    lookup: &impl Fn(&str) -> Option<String>,
) -> Result<AwsWebhook, ConfigError> {
    let secret = WebhookSecret::new(&required(lookup, "VAPI_WEBHOOK_SECRET")?)
        .ok_or(ConfigError::Missing("VAPI_WEBHOOK_SECRET"))?;
    let business = Business::from_lookup(lookup)?;
    let sqs = aws_sdk_sqs::Client::new(sdk);
    let dynamodb = aws_sdk_dynamodb::Client::new(sdk);
    let booking_queue = required(lookup, "BOOKING_QUEUE_URL")?;
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
    ]);
    let queues = named(&[
        ("booking-queue", "BOOKING_QUEUE_URL"),
        ("notification-queue", "NOTIFICATION_QUEUE_URL"),
        ("booking-dlq", "BOOKING_DLQ_URL"),
        ("notification-dlq", "NOTIFICATION_DLQ_URL"),
    ]);
    Ok(Webhook {
        secret,
        business,
        queue: SqsJobQueue::new(sqs.clone(), Some(booking_queue), None),
        slots: DynamoSlotStore::new(dynamodb.clone(), required(lookup, "BOOKINGS_TABLE")?),
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

impl<Q: JobQueue, S: SlotStore, H: HealthProbe, C: Clock> Webhook<Q, S, H, C> {
    pub async fn handle(&self, request: Request) -> Response<Body> {
        let path = request.uri().path().trim_end_matches('/');
        match (request.method(), path) {
            (&Method::POST, WEBHOOK_PATH) => self.vapi_webhook(&request).await,
            (&Method::GET, HEALTH_PATH) => self.health().await,
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
        if let Err(e) = authenticate(&self.secret, |name| headers.get(name).map(|v| v.as_bytes())) {
            warn!(reason = %e, "webhook rejected: authentication");
            let text = match e {
                AuthError::Missing => e.to_string(),
                AuthError::Invalid => "invalid webhook secret".to_string(),
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
        let message = match parse_webhook(request.body().as_ref()) {
            Ok(m) => m,
            Err(e) => {
                warn!(reason = %e, "webhook rejected: unreadable body");
                return client_error(StatusCode::BAD_REQUEST, e);
            }
        };
        let body = match message {
            WebhookMessage::ToolCalls { call, tool_calls } => {
                let mut answers = Vec::with_capacity(tool_calls.len());
                for tool_call in &tool_calls {
                    answers.push((tool_call, self.run_tool(&call, tool_call).await));
                }
                tool_calls_response(&answers)
            }
            WebhookMessage::SingleCall { call, tool_call } => {
                single_call_response(&self.run_tool(&call, &tool_call).await)
            }
            WebhookMessage::AssistantRequest { call } => self.assistant_request(&call),
            WebhookMessage::TransferDestinationRequest { call } => self.transfer_destination(&call),
            WebhookMessage::EndOfCallReport(report) => {
                info!(
                    call_id = ?report.call.call_id,
                    ended_reason = ?report.ended_reason,
                    duration_seconds = ?report.duration_seconds(),
                    "end-of-call report acknowledged"
                );
                json!({})
            }
            WebhookMessage::StatusUpdate(update) => {
                info!(call_id = ?update.call.call_id, status = %update.status, "status update acknowledged");
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

    async fn run_tool(&self, call: &CallContext, tool_call: &ToolCall) -> ToolOutcome {
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
            "bookAppointment" => self.book_appointment(call, tool_call, args).await,
            "checkAvailability" => self.check_availability(call, args).await,
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
        call: &CallContext,
        tool_call: &ToolCall,
        args: &serde_json::Map<String, Value>,
    ) -> ToolOutcome {
        let now = self.clock.now();
        let request = match book_appointment_request(args, call, &self.business, now) {
            Ok(r) => r,
            Err(refusal) => return ToolOutcome::Error(self.explain(refusal, now).await),
        };
        let business = &self.business;
        let cells = cells_for(
            request.start,
            request.service.minutes,
            business.slot_minutes,
        );
        // Who is booking what: the same caller asking again for the same time and service (a
        // re-issued call under a new id, or the flat form without ids) gets the booking they
        // have. The reservation checks it atomically, so concurrent repeats book once.
        let holder = stable_id(
            format!(
                "{}|{}|{}|{}",
                business.id,
                request.customer.phone,
                request.start.with_timezone(&Utc).to_rfc3339(),
                request.service.name.to_lowercase()
            )
            .as_bytes(),
        );
        let reference = self.booking_reference(call, tool_call);
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
                return ToolOutcome::Error(self.explain(refusal, now).await);
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
            business_id: self.business.id.clone(),
            business_name: self.business.name.clone(),
            reference: reference.clone(),
            customer: request.customer.clone(),
            service: request.service.name.clone(),
            duration_minutes: request.service.minutes,
            price_cents: request.service.price_cents,
            start_utc: request.start.with_timezone(&Utc),
            start_local: request.start.fixed_offset(),
            time_zone: self.business.zone.name().to_string(),
            slot_cells: cells.clone(),
            call_id: call.call_id.clone(),
            tool_call_id: tool_call.id.clone(),
            requested_at: now,
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

    /// A refusal as the caller hears it: for a time that cannot be had, with the nearest
    /// times that still have room (one Query per day looked at).
    async fn explain(&self, refusal: BookingRefusal, now: chrono::DateTime<Utc>) -> String {
        let candidates = refusal.candidates(&self.business, now);
        let mut days: Vec<NaiveDate> = candidates.iter().map(|c| c.date_naive()).collect();
        days.dedup();
        let mut taken = HashMap::new();
        for day in days {
            match self.taken_on(day).await {
                Ok(cells) => taken.extend(cells),
                // Without the calendar, offer nothing rather than times that may be taken.
                Err(e) => {
                    warn!(error = %e, "taken slots could not be read");
                    return refusal.spoken(&self.business, &[], &taken);
                }
            }
        }
        refusal.spoken(&self.business, &candidates, &taken)
    }

    async fn taken_on(&self, day: NaiveDate) -> Result<HashMap<SlotCell, u32>, PortError> {
        Ok(self
            .slots
            .taken(&self.business.id, day)
            .await?
            .into_iter()
            .collect())
    }

    /// checkAvailability: a few free times on the day, or the next days that have room.
    async fn check_availability(
        &self,
        call: &CallContext,
        args: &serde_json::Map<String, Value>,
    ) -> ToolOutcome {
        let now = self.clock.now();
        let business = &self.business;
        let request = match availability_request(args, call, business, now) {
            Ok(r) => r,
            Err(spoken) => return ToolOutcome::Error(spoken),
        };
        let answer = async {
            let free = free_starts(business, &request, now, &self.taken_on(request.day).await?);
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
                if let Some(first) = free_starts(business, &later, now, &self.taken_on(day).await?)
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
                ToolOutcome::Error(
                    "I'm sorry, I can't check the calendar just now. Please try again in a moment."
                        .into(),
                )
            }
        }
    }

    /// `assistant-request`: the business's assistant, or a sentence Vapi says before hanging up.
    fn assistant_request(&self, call: &CallContext) -> Value {
        match &self.business.assistant_id {
            Some(id) => {
                info!(phone_number_id = ?call.phone_number_id, "assistant requested");
                json!({ "assistantId": id })
            }
            None => {
                warn!(phone_number_id = ?call.phone_number_id, "assistant requested but VAPI_ASSISTANT_ID is not set");
                json!({ "error": format!("Sorry, {} can't take calls on this line right now. Please try again later.", self.business.name) })
            }
        }
    }

    /// `transfer-destination-request`: the business's transfer number, or a spoken refusal.
    fn transfer_destination(&self, call: &CallContext) -> Value {
        match &self.business.transfer_number {
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
    fn booking_reference(&self, call: &CallContext, tool_call: &ToolCall) -> BookingReference {
        match &tool_call.id {
            Some(id) if !id.is_empty() => {
                let seed = format!(
                    "{}|{}|{}",
                    self.business.id,
                    call.call_id.as_deref().unwrap_or_default(),
                    id
                );
                BookingReference::derive(seed.as_bytes())
            }
            _ => BookingReference::generate(&mut rand::rng()),
        }
    }

    async fn health(&self) -> Response<Body> {
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
        let body = json!({
            "status": if healthy { "ok" } else { "unavailable" },
            "checkedAt": self.clock.now().to_rfc3339(),
            "components": components,
        });
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
