//! Everything the webhook itself says to a caller (the domain's refusals and confirmations
//! are written in callbook-core, beside the rules they explain).

/// A system that failed while answering a tool call: the caller hears an apology and may try
/// again (the answer is never remembered, so the retry runs the tool anew).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SystemProblem {
    /// A booking could not be reserved or handed to the queue.
    Booking,
    /// A move or cancel could not be handed to the queue.
    Change,
    /// The caller's bookings could not be read.
    Lookup,
    /// Availability could not be read.
    Calendar,
    /// A lead could not be handed to the queue.
    Lead,
    /// The same tool call is still being answered elsewhere.
    StillWorking,
    /// A caller code could not be stored, sent or checked.
    Verification,
    /// The message's time ran out before this tool call was answered.
    OutOfTime,
}

impl SystemProblem {
    pub fn sentence(self) -> &'static str {
        match self {
            Self::Booking => SYSTEM_PROBLEM,
            Self::Change => CHANGE_PROBLEM,
            Self::Lookup => LOOKUP_PROBLEM,
            Self::Calendar => CALENDAR_PROBLEM,
            Self::Lead => LEAD_PROBLEM,
            Self::StillWorking => STILL_WORKING,
            Self::OutOfTime => OUT_OF_TIME,
            Self::Verification => VERIFICATION_PROBLEM,
        }
    }
}

pub const SYSTEM_PROBLEM: &str = "I'm sorry, I couldn't save that booking because of a system problem. Please try again in a moment.";
pub const CHANGE_PROBLEM: &str = "I'm sorry, I couldn't make that change because of a system problem. Please try again in a moment.";
pub const LOOKUP_PROBLEM: &str =
    "I'm sorry, I can't look up bookings just now. Please try again in a moment.";
pub const CALENDAR_PROBLEM: &str =
    "I'm sorry, I can't check the calendar just now. Please try again in a moment.";
pub const LEAD_PROBLEM: &str =
    "I'm sorry, I couldn't pass that on because of a system problem. Please try again in a moment.";
pub const STILL_WORKING: &str =
    "I'm still working on that request; please give me a moment and ask again.";

pub const VERIFICATION_PROBLEM: &str =
    "I'm sorry, I can't send or check codes just now. Please try again in a moment.";
pub const OUT_OF_TIME: &str =
    "I'm sorry, that took too long to check. Please ask me again in a moment.";

/// Tool calls past the most one message may carry.
pub const TOO_MANY_TOOL_CALLS: &str =
    "I can only handle a few requests at once; please ask for that one again.";

/// A tool-call id used again with other arguments.
pub const ID_REUSED: &str = "That request was already made with other details; please ask again.";
/// Arguments that are not a JSON object.
pub const UNREADABLE_ARGUMENTS: &str =
    "I couldn't read the details of that request; could you repeat them?";

/// A tool the webhook does not answer.
pub fn unknown_tool(name: &str) -> String {
    format!("I can't do that here: the tool {name:?} is not available.")
}

/// A move to the time the booking already has.
pub fn already_at(service: &str, when: &str) -> String {
    format!("Your {service} is already booked for {when}.")
}

/// A move onto a time the caller already has another booking at.
pub fn already_booked(service: &str, when: &str, reference: &str) -> String {
    format!("You already have a {service} booked for {when}, reference {reference}.")
}

/// `assistant-request` for a business without an assistant id: said before Vapi hangs up.
pub fn no_assistant(business_name: &str) -> String {
    format!(
        "Sorry, {business_name} can't take calls on this line right now. Please try again later."
    )
}

/// `transfer-destination-request`: said while the call is transferred.
pub const TRANSFERRING: &str = "I'm transferring you now; please hold.";
/// `transfer-destination-request` for a business without a transfer number.
pub const NO_TRANSFER: &str = "I'm sorry, I can't transfer you to a person right now, but I can take a message or help you book.";

/// A call through an assistant or phone number no business claims, with `UNROUTED_CALLS`
/// set to `refuse`: said for each tool call, or by Vapi before it hangs up.
pub const UNROUTED_CALL: &str = "I'm sorry, this line isn't set up to take bookings yet, so I can't help with that now. Please contact the business directly.";
