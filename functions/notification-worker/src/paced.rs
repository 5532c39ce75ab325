//! Sends paced to a per-instance rate.

use callbook_core::{EmailAddress, EmailSender, PhoneNumber, PortError, RenderedEmail, SmsSender};

/// At most `per_second` sends a second from this instance: with the event source's
/// `MaximumConcurrency` this bounds the account-wide rate by construction (see the README).
#[derive(Debug)]
pub struct Paced<P> {
    interval: std::time::Duration,
    next: tokio::sync::Mutex<tokio::time::Instant>,
    pub inner: P,
}

impl<P> Paced<P> {
    pub fn new(per_second: u32, inner: P) -> Self {
        Self {
            interval: std::time::Duration::from_secs(1) / per_second.max(1),
            next: tokio::sync::Mutex::new(tokio::time::Instant::now()),
            inner,
        }
    }

    /// The same pace around another sender (the dev server puts its faults inside it).
    pub fn map<Q>(self, f: impl FnOnce(P) -> Q) -> Paced<Q> {
        Paced {
            interval: self.interval,
            next: self.next,
            inner: f(self.inner),
        }
    }

    /// Waits for this send's turn.
    async fn turn(&self) {
        let at = {
            let mut next = self.next.lock().await;
            let at = (*next).max(tokio::time::Instant::now());
            *next = at + self.interval;
            at
        };
        tokio::time::sleep_until(at).await;
    }
}

impl<P: SmsSender> SmsSender for Paced<P> {
    async fn send_sms(&self, to: &PhoneNumber, text: &str) -> Result<String, PortError> {
        self.turn().await;
        self.inner.send_sms(to, text).await
    }

    fn breaker_opens(&self) -> u64 {
        self.inner.breaker_opens()
    }
}

impl<P: EmailSender> EmailSender for Paced<P> {
    async fn send_email(
        &self,
        to: &EmailAddress,
        email: &RenderedEmail,
    ) -> Result<String, PortError> {
        self.turn().await;
        self.inner.send_email(to, email).await
    }

    fn breaker_opens(&self) -> u64 {
        self.inner.breaker_opens()
    }
}
