//! The gate every Vapi message passes before anything is done with it: the size first (it
//! costs nothing), then the call's business (it may have its own secret), authentication, and
//! the content type. The business found here is the one that serves the message: it is looked
//! up once, by the same ids (`call_routes`) that route the call, so a body cannot be
//! authenticated as one business and served as another.

use std::sync::Arc;

use callbook_core::{
    AuthError, Business, CallOwner, Clock, EnvelopeError, PortError, SecretStore, WebhookSecret,
    business_for_call, call_routes, is_route_id, parse_json,
};
use lambda_http::http::{StatusCode, header};
use lambda_http::{Body, Request, Response};
use serde_json::Value;
use tracing::{error, info, warn};

use crate::edge::client_error;
use crate::unrouted::UnroutedCalls;
use crate::{Webhook, WebhookPorts};

/// A message let through: its body read as JSON (or why it is not), and its business.
pub(crate) struct Admitted {
    pub body: Result<Value, EnvelopeError>,
    pub business: Arc<Business>,
    /// The call names an assistant or phone number no business claims: `business` is the
    /// default, which serves it or refuses it (`UnroutedCalls`).
    pub unrouted: bool,
}

/// Why a message was turned away, each with its HTTP status.
#[derive(Debug)]
pub(crate) enum Rejection {
    TooLarge {
        limit: usize,
    },
    /// The call's business, or its secret, could not be read: which secret applies is unknown.
    CannotAuthenticate,
    Unauthenticated(AuthError),
    NotJson(String),
    Unreadable(EnvelopeError),
}

impl Rejection {
    pub(crate) fn response(&self) -> Response<Body> {
        match self {
            Self::TooLarge { limit } => client_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("the body is larger than {limit} bytes"),
            ),
            Self::CannotAuthenticate => client_error(
                StatusCode::SERVICE_UNAVAILABLE,
                "the webhook cannot check credentials just now; try again",
            ),
            // The reason, never the secret.
            Self::Unauthenticated(AuthError::Invalid) => {
                client_error(StatusCode::UNAUTHORIZED, "invalid webhook credentials")
            }
            Self::Unauthenticated(other) => client_error(StatusCode::UNAUTHORIZED, other),
            Self::NotJson(got) => client_error(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                format!("the body must be JSON (Content-Type: application/json), not {got}"),
            ),
            Self::Unreadable(e) => client_error(StatusCode::BAD_REQUEST, e),
        }
    }
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

impl<P: WebhookPorts> Webhook<P> {
    pub(crate) async fn admit(&self, request: &Request) -> Result<Admitted, Rejection> {
        let headers = request.headers();
        let body = request.body().as_ref();
        // The size first (it costs nothing), so nothing large is hashed or parsed.
        if body.len() > self.max_body_bytes {
            warn!(bytes = body.len(), "webhook rejected: body too large");
            return Err(Rejection::TooLarge {
                limit: self.max_body_bytes,
            });
        }
        // Read as JSON only to find the business whose secret must sign it; nothing else is
        // read or done before authentication.
        let json = parse_json(body);
        let owner = match &json {
            Ok(value) => self.owner_named_by(value).await?,
            Err(_) => CallOwner::Default,
        };
        let (business, unrouted) = match owner {
            CallOwner::Stored(business) => (business, false),
            CallOwner::Default => (self.business.clone(), false),
            // Authenticated with the deployment's secret, like the default business's calls.
            CallOwner::Unclaimed => (self.business.clone(), true),
        };
        // The install's default business is configured, not stored: the deployment's secret
        // is its secret.
        let own_secrets = if Arc::ptr_eq(&business, &self.business) {
            None
        } else {
            self.own_secrets(&business).await?
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
            return Err(Rejection::Unauthenticated(e));
        }
        if let Some(ct) = headers.get(header::CONTENT_TYPE)
            && !is_json_content_type(ct.as_bytes())
        {
            let got = String::from_utf8_lossy(ct.as_bytes()).into_owned();
            return Err(Rejection::NotJson(got));
        }
        if unrouted {
            self.unrouted_noticed(json.as_ref().ok());
        }
        Ok(Admitted {
            body: json,
            business,
            unrouted,
        })
    }

    /// Whose call the body names (`business_for_call`). Ids no business could have
    /// ([`is_route_id`]) are not looked up, so a stranger's body cannot make us query or cache
    /// arbitrary keys; the directory caches a bounded number of answers.
    async fn owner_named_by(&self, body: &Value) -> Result<CallOwner, Rejection> {
        let (assistant, phone_number) = call_routes(body);
        business_for_call(&self.directory, &self.business, assistant, phone_number)
            .await
            .map_err(|e: PortError| {
                error!(error = %e, "the call's business could not be looked up to authenticate it");
                Rejection::CannotAuthenticate
            })
    }

    /// An authenticated call that no business claims: logged with its ids when they are
    /// well-formed (Vapi's ids, no personal data), never with anything else from the body.
    fn unrouted_noticed(&self, body: Option<&Value>) {
        let (assistant, phone_number) = body.map_or((None, None), call_routes);
        let shown = |id: Option<&str>| match id {
            Some(id) if is_route_id(id) => id.to_string(),
            Some(_) => "<malformed>".to_string(),
            None => "<none>".to_string(),
        };
        let (assistant_id, phone_number_id) = (shown(assistant), shown(phone_number));
        match self.unrouted_calls {
            UnroutedCalls::Serve => info!(
                %assistant_id, %phone_number_id, business = %self.business.id,
                "a call no business claims is served by the default business (UNROUTED_CALLS=serve)"
            ),
            UnroutedCalls::Refuse => warn!(
                %assistant_id, %phone_number_id,
                "a call no business claims is refused (UNROUTED_CALLS=refuse)"
            ),
        }
    }

    /// The business's own secrets when it has them; `None` when the deployment's secret
    /// applies. A business whose secret cannot be read gets 503.
    async fn own_secrets(
        &self,
        business: &Business,
    ) -> Result<Option<Vec<WebhookSecret>>, Rejection> {
        if business.webhook_secrets.is_empty() {
            return Ok(None);
        }
        let mut secrets = Vec::with_capacity(business.webhook_secrets.len());
        for reference in &business.webhook_secrets {
            let secret = self.secrets.secret(reference).await.map_err(|e| {
                error!(business = %business.id, error = %e, "a business's webhook secret could not be read");
                Rejection::CannotAuthenticate
            })?;
            secrets.extend(WebhookSecret::new(&secret));
        }
        Ok(Some(secrets))
    }
}
