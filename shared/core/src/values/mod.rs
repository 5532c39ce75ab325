//! Leaf value types: each validated once at the edge and trusted after (a phone number, an
//! email address, a booking reference, a calendar cell), and how they are said to a caller.
//! Nothing here knows about businesses, bookings or I/O.

pub mod config;
pub mod countries;
pub mod dates;
pub mod email;
pub mod hours;
pub mod limits;
pub mod name;
pub mod phone;
pub mod recipient;
pub mod redact;
pub mod reference;
pub mod secrets;
pub mod slots;
pub mod speech;
pub mod text;
pub mod times;
