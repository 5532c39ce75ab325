//! One customer text: read, handled once, answered at most once.

use std::sync::Arc;

use callbook_core::{
    BookingChange, BookingChangeJob, BookingRecord, BookingStore, BookingSummary, Business, Clock,
    Job, JobQueue, LastReminders, NotificationJob, NotificationKind, OnceError, OptOutList,
    OptOuts, PhoneNumber, PortError, QUEUE_JOB, QuotaTaken, Quotas, Ran, Recipient, Reminded,
    SmsAnswer, SmsReply, TextPermission, business_by_id, read_reply, run_once, stable_id,
    texts_today,
};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use tracing::{info, warn};

use crate::{SmsReplies, SmsRepliesPorts};

/// A two-way SMS message as End User Messaging publishes it to the topic (the fields we
/// use). No `Debug`: it holds the customer's number and words.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InboundSms {
    /// The customer's number (E.164).
    pub origination_number: String,
    /// Ours, which the text was sent to.
    #[serde(default)]
    pub destination_number: Option<String>,
    #[serde(default)]
    pub message_keyword: Option<String>,
    pub message_body: String,
    /// Unique per inbound text: what makes a redelivery the same text.
    pub inbound_message_id: String,
    #[serde(default)]
    pub previous_published_message_id: Option<String>,
}

/// What became of one SNS message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Handled {
    /// Handled now: what it asked for and what was done (no number, no words).
    Now { reply: SmsReply, outcome: String },
    /// Its inbound message id was handled before (a redelivery).
    Before,
    /// Not a text we can read (why): dropped.
    Unreadable(&'static str),
}

impl<P: SmsRepliesPorts> SmsReplies<P> {
    /// Reads one SNS message body and handles its text once. An error means "try again".
    pub async fn handle_message(&self, body: &str) -> Result<Handled, PortError> {
        let Ok(inbound) = serde_json::from_str::<InboundSms>(body) else {
            return Ok(Handled::Unreadable(
                "not an End User Messaging inbound message",
            ));
        };
        let Ok(phone) = PhoneNumber::try_from(inbound.origination_number.trim().to_string()) else {
            return Ok(Handled::Unreadable("the sender's number is not E.164"));
        };
        if inbound.inbound_message_id.trim().is_empty() {
            return Ok(Handled::Unreadable("no inbound message id"));
        }
        let reply = read_reply(&inbound.message_body);
        let key = format!(
            "sms-reply#{}",
            stable_id(inbound.inbound_message_id.as_bytes())
        );
        let fingerprint = stable_id(format!("{phone}|{}", inbound.message_body).as_bytes());
        let ran = run_once(
            &self.jobs_done,
            &self.clock,
            QUEUE_JOB,
            &key,
            &fingerprint,
            || self.reply(&inbound.inbound_message_id, &phone, reply),
        )
        .await;
        match ran {
            Ok(Ran::Now(outcome)) => Ok(Handled::Now { reply, outcome }),
            Ok(Ran::Before(_)) => Ok(Handled::Before),
            // Done. A repeat after the claim expires does it again harmlessly: the change and
            // the answer keep their ids (applied and sent once), the quota its taker.
            Ok(Ran::Unrecorded(outcome, e)) => {
                let error = callbook_core::redact_text(&e.to_string());
                warn!(%error, "text handled but not recorded");
                Ok(Handled::Now { reply, outcome })
            }
            Err(OnceError::Mismatch) => Ok(Handled::Unreadable(
                "an inbound message id seen before with another text",
            )),
            Err(OnceError::InProgress) => Err(PortError::Conflict(
                "the same text is being handled by another invocation".into(),
            )),
            Err(OnceError::Store(e) | OnceError::Work(e)) => Err(e),
        }
    }

    /// Does what the text asks for and answers it.
    async fn reply(
        &self,
        inbound_id: &str,
        phone: &PhoneNumber,
        reply: SmsReply,
    ) -> Result<String, PortError> {
        let now = self.clock.now();
        let last = self.last_reminders.last(phone).await?;
        let business = self.business_of(last.as_ref()).await?;
        let answer = match reply {
            SmsReply::OptOut => {
                // One confirmation, then nothing: a second STOP is recorded, not answered.
                let already = self.opt_outs.opted_out(&business.id, phone).await?;
                self.opt_outs.opt_out(&business.id, phone, now).await?;
                if already {
                    return Ok("no answer: opted out before".into());
                }
                SmsAnswer::OptedOut
            }
            SmsReply::OptIn => {
                self.opt_outs.opt_in(&business.id, phone).await?;
                SmsAnswer::OptedIn
            }
            // The business's reminders do not invite replies: C and X mean nothing here, and
            // its help line does not offer them.
            SmsReply::Help | SmsReply::Unknown | SmsReply::Confirm | SmsReply::Cancel
                if !business.followups.replies =>
            {
                SmsAnswer::HelpWithoutReplies
            }
            SmsReply::Help | SmsReply::Unknown => SmsAnswer::Help,
            SmsReply::Confirm | SmsReply::Cancel => {
                let Some(booking) = self
                    .reminded_booking(&business, last.as_ref(), phone, now)
                    .await?
                else {
                    return self
                        .answer(&business, phone, inbound_id, SmsAnswer::NoBooking, None)
                        .await;
                };
                let change = if reply == SmsReply::Confirm {
                    // Per start: a booking moved since can be confirmed again.
                    let what = format!("confirm#{}", booking.start_utc.timestamp());
                    self.change(&business, &booking, BookingChange::Confirm, &what, now)
                } else {
                    // As cancelAppointment words it: a cancel by phone and by text are one.
                    self.change(
                        &business,
                        &booking,
                        BookingChange::Cancel { reason: None },
                        "cancel",
                        now,
                    )
                };
                self.queue.enqueue(&[Job::BookingChange(change)]).await?;
                if reply == SmsReply::Cancel {
                    // The booking worker's cancellation text and email are the answer.
                    return Ok("cancel queued".into());
                }
                return self
                    .answer(
                        &business,
                        phone,
                        inbound_id,
                        SmsAnswer::Confirmed,
                        Some(summary(&booking)),
                    )
                    .await
                    .map(|answered| format!("confirm queued; {answered}"));
            }
        };
        self.answer(&business, phone, inbound_id, answer, None)
            .await
    }

    /// The business the number was last reminded by; else (never reminded, or that business
    /// is gone) the default one.
    async fn business_of(&self, last: Option<&Reminded>) -> Result<Arc<Business>, PortError> {
        let Some(last) = last else {
            return Ok(self.business.clone());
        };
        match business_by_id(&self.directory, &self.business, &last.business_id).await {
            Ok(business) => Ok(business),
            Err(PortError::Conflict(_)) => Ok(self.business.clone()),
            Err(e) => Err(e),
        }
    }

    /// The booking the last reminder was about, when it is this business's, made with this
    /// very number, still on and still to come.
    async fn reminded_booking(
        &self,
        business: &Business,
        last: Option<&Reminded>,
        phone: &PhoneNumber,
        now: DateTime<Utc>,
    ) -> Result<Option<BookingRecord>, PortError> {
        let Some(last) = last.filter(|l| l.business_id == business.id) else {
            return Ok(None);
        };
        let booking = self.bookings.booking(&business.id, &last.reference).await?;
        Ok(booking.filter(|b| b.customer_phone == *phone && b.is_upcoming(now)))
    }

    fn change(
        &self,
        business: &Business,
        booking: &BookingRecord,
        change: BookingChange,
        what: &str,
        now: DateTime<Utc>,
    ) -> BookingChangeJob {
        BookingChangeJob {
            job_id: format!("{}#{}#{what}", business.id, booking.reference),
            business_id: business.id.clone(),
            business_name: business.name.clone(),
            reference: booking.reference.clone(),
            change,
            call_id: None,
            tool_call_id: None,
            requested_at: now,
            texts: business.texts_to(&booking.customer_phone),
            // A cancel deletes the booking's schedules, as the tool's does.
            followups: Some(business.followups.clone()),
        }
    }

    /// Queues the one answer to a text, unless the number may not be texted (another
    /// country, opted out: only the opt-out's own confirmation goes then) or has had its
    /// texts for the day. Its id comes from the inbound message, so a redelivery sends once.
    async fn answer(
        &self,
        business: &Business,
        phone: &PhoneNumber,
        inbound_id: &str,
        answer: SmsAnswer,
        booking: Option<BookingSummary>,
    ) -> Result<String, PortError> {
        let now = self.clock.now();
        if business.texts_to(phone) != TextPermission::Allowed {
            return Ok("no answer: the business does not text there".into());
        }
        if answer != SmsAnswer::OptedOut && self.opt_outs.opted_out(&business.id, phone).await? {
            return Ok("no answer: opted out".into());
        }
        let unit = texts_today(business, phone, now);
        let taker = stable_id(inbound_id.as_bytes());
        match self
            .quotas
            .take(&unit.key, &taker, unit.limit, unit.window_ends, now)
            .await?
        {
            QuotaTaken::Granted { .. } => {}
            QuotaTaken::Exhausted => {
                info!("the number's texts for the day are used up: no answer");
                return Ok("no answer: texts per day reached".into());
            }
        }
        let job = NotificationJob {
            notification_id: format!("{}#sms-answer#{taker}", business.id),
            business_id: business.id.clone(),
            business_name: business.name.clone(),
            kind: NotificationKind::SmsAnswer,
            recipient: Recipient::Sms {
                phone: phone.clone(),
            },
            booking,
            lead: None,
            code: None,
            reminder: None,
            answer: Some(answer),
        };
        self.queue.enqueue(&[Job::Notification(job)]).await?;
        Ok(format!("answered {answer:?}"))
    }
}

fn summary(b: &BookingRecord) -> BookingSummary {
    BookingSummary {
        reference: b.reference.clone(),
        customer_name: b.customer_name.clone(),
        customer_phone: None,
        service: b.service.clone(),
        start_local: b.start_local,
        time_zone: b.time_zone.clone(),
    }
}
