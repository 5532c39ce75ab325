//! The Vapi protocol: the messages that arrive (`envelope`), the tools we declare and their
//! arguments (`tools`), the answers that go back (`answers`), and how a request proves it is
//! Vapi's (`auth`).

pub mod answers;
pub mod auth;
pub mod envelope;
pub mod tools;
