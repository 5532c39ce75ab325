//! Who a message goes to, on which channel: a customer or the business's owner.

use serde::{Deserialize, Serialize};

use crate::values::email::EmailAddress;
use crate::values::phone::PhoneNumber;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "channel", rename_all = "camelCase")]
pub enum Recipient {
    Sms { phone: PhoneNumber },
    Email { email: EmailAddress },
}

impl Recipient {
    pub fn channel(&self) -> &'static str {
        match self {
            Self::Sms { .. } => "sms",
            Self::Email { .. } => "email",
        }
    }
}
