//! The adapters' classification of SNS and SESv2 errors, with the SDK's own mocks
//! (aws-smithy-mocks): each typed error, and raw HTTP answers parsed as the SDK parses them.

use aws_sdk_sesv2::operation::send_email::{SendEmailError, SendEmailOutput};
use aws_sdk_sesv2::types::error as ses;
use aws_sdk_sns::operation::publish::{PublishError, PublishOutput};
use aws_sdk_sns::types::error as sns;
use aws_smithy_mocks::{Rule, RuleMode, mock, mock_client};
use callbook_core::{EmailAddress, PhoneNumber, PhoneRegion, RenderedEmail};

use super::*;

fn phone() -> PhoneNumber {
    PhoneNumber::parse("+17025551234", PhoneRegion::from_code("US").unwrap()).unwrap()
}

fn email() -> RenderedEmail {
    RenderedEmail {
        subject: "Booked".into(),
        text: "See you".into(),
        html: "<p>See you</p>".into(),
    }
}

/// One SMS through a client whose only answer is `rule`; the SDK's retries are off, so a
/// transient answer is seen once.
async fn sms_with(rule: Rule) -> Result<String, PortError> {
    let client = mock_client!(aws_sdk_sns, RuleMode::Sequential, [&rule], |c| c
        .retry_config(aws_sdk_sns::config::retry::RetryConfig::disabled()));
    SnsSms::new(client).send_sms(&phone(), "hi").await
}

async fn email_with(rule: Rule) -> Result<String, PortError> {
    let client = mock_client!(aws_sdk_sesv2, RuleMode::Sequential, [&rule], |c| c
        .retry_config(aws_sdk_sesv2::config::retry::RetryConfig::disabled()));
    SesEmail::new(client, "bookings@example.com".into())
        .send_email(&EmailAddress::parse("a@example.com").unwrap(), &email())
        .await
}

fn is_transient(result: &Result<String, PortError>) -> bool {
    matches!(result, Err(PortError::Unavailable { .. }))
}

#[tokio::test]
async fn sns_refusing_the_number_is_a_rejected_recipient() {
    let invalid = mock!(aws_sdk_sns::Client::publish).then_error(|| {
        PublishError::InvalidParameterException(
            sns::InvalidParameterException::builder()
                .message(
                    "Invalid parameter: PhoneNumber Reason: +1702555 is not valid to publish to",
                )
                .build(),
        )
    });
    let value = mock!(aws_sdk_sns::Client::publish).then_error(|| {
        PublishError::InvalidParameterValueException(
            sns::InvalidParameterValueException::builder().build(),
        )
    });
    for rule in [invalid, value] {
        assert_eq!(
            sms_with(rule).await,
            Err(PortError::Rejected(SendFailure::InvalidNumber))
        );
    }
}

#[tokio::test]
async fn sns_throttling_5xx_and_its_own_faults_stay_transient() {
    let internal = mock!(aws_sdk_sns::Client::publish).then_error(|| {
        PublishError::InternalErrorException(sns::InternalErrorException::builder().build())
    });
    let denied = mock!(aws_sdk_sns::Client::publish).then_error(|| {
        PublishError::AuthorizationErrorException(
            sns::AuthorizationErrorException::builder().build(),
        )
    });
    let unavailable = mock!(aws_sdk_sns::Client::publish)
        .sequence()
        .http_status(503, None)
        .build();
    // Throttling as SNS sends it: a query-protocol error the Publish model does not name.
    let throttled = mock!(aws_sdk_sns::Client::publish)
        .sequence()
        .http_status(
            400,
            Some(
                "<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code>\
                 <Message>Rate exceeded</Message></Error><RequestId>r1</RequestId></ErrorResponse>"
                    .into(),
            ),
        )
        .build();
    for rule in [internal, denied, unavailable, throttled] {
        let result = sms_with(rule).await;
        assert!(is_transient(&result), "{result:?}");
    }
}

#[tokio::test]
async fn sns_accepting_gives_its_message_id() {
    let sent = mock!(aws_sdk_sns::Client::publish)
        .then_output(|| PublishOutput::builder().message_id("m-1").build());
    assert_eq!(sms_with(sent).await, Ok("m-1".into()));
}

#[tokio::test]
async fn ses_refusing_the_message_or_the_address_is_a_rejected_recipient() {
    let rejected = mock!(aws_sdk_sesv2::Client::send_email).then_error(|| {
        SendEmailError::MessageRejected(
            ses::MessageRejected::builder()
                .message("Email address is not verified.")
                .build(),
        )
    });
    assert_eq!(
        email_with(rejected).await,
        Err(PortError::Rejected(SendFailure::EmailRejected))
    );
    let bad = mock!(aws_sdk_sesv2::Client::send_email).then_error(|| {
        SendEmailError::BadRequestException(ses::BadRequestException::builder().build())
    });
    assert_eq!(
        email_with(bad).await,
        Err(PortError::Rejected(SendFailure::InvalidAddress))
    );
}

/// What stops every email (the account, the sender's domain, limits) is no recipient's
/// fault: transient, so the breaker, the DLQ and the alarm see it.
#[tokio::test]
async fn ses_account_sender_limits_throttling_and_5xx_stay_transient() {
    let rules = [
        mock!(aws_sdk_sesv2::Client::send_email).then_error(|| {
            SendEmailError::AccountSuspendedException(
                ses::AccountSuspendedException::builder().build(),
            )
        }),
        mock!(aws_sdk_sesv2::Client::send_email).then_error(|| {
            SendEmailError::SendingPausedException(ses::SendingPausedException::builder().build())
        }),
        mock!(aws_sdk_sesv2::Client::send_email).then_error(|| {
            SendEmailError::MailFromDomainNotVerifiedException(
                ses::MailFromDomainNotVerifiedException::builder().build(),
            )
        }),
        mock!(aws_sdk_sesv2::Client::send_email).then_error(|| {
            SendEmailError::TooManyRequestsException(
                ses::TooManyRequestsException::builder().build(),
            )
        }),
        mock!(aws_sdk_sesv2::Client::send_email).then_error(|| {
            SendEmailError::LimitExceededException(ses::LimitExceededException::builder().build())
        }),
        mock!(aws_sdk_sesv2::Client::send_email)
            .sequence()
            .http_status(500, None)
            .build(),
    ];
    for rule in rules {
        let result = email_with(rule).await;
        assert!(is_transient(&result), "{result:?}");
    }
}

#[tokio::test]
async fn ses_accepting_gives_its_message_id() {
    let sent = mock!(aws_sdk_sesv2::Client::send_email)
        .then_output(|| SendEmailOutput::builder().message_id("e-1").build());
    assert_eq!(email_with(sent).await, Ok("e-1".into()));
}
