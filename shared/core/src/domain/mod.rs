//! The booking domain, pure: businesses and their services, bookings and changes to them,
//! availability, calls and leads. Each tool's arguments become a validated request here, and
//! each stored record decides its own changes; the ports do the I/O.

pub mod availability;
pub mod booking;
pub mod booking_change;
pub mod business;
pub mod callers;
pub mod calls;
pub mod changes;
pub mod followups;
pub mod leads;
pub mod limits;
pub mod replies;
pub mod services;
