//! Test doubles, compiled only for tests and with the `testing` feature (the dev server's
//! fault injection): in-memory ports as atomic as the real ones (`memory`), and `Faulty`,
//! which makes any port fail the calls a plan picks (`faults`). Production binaries never
//! build them.

pub mod faults;
pub mod memory;
