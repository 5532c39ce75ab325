//! callbook-core: the Vapi protocol and the booking domain, without I/O and without the AWS
//! SDK, so it compiles and fuzzes fast. I/O lives behind the traits in `ports`.

pub mod auth;
pub mod availability;
pub mod booking;
pub mod business;
pub mod calls;
pub mod changes;
pub mod dates;
pub mod email;
pub mod faults;
pub mod hours;
pub mod jobs;
pub mod leads;
pub mod memory;
pub mod once;
pub mod phone;
pub mod ports;
pub mod redact;
pub mod reference;
pub mod resilience;
pub mod secrets;
pub mod services;
pub mod slots;
pub mod templates;
pub mod tools;
pub mod vapi;
