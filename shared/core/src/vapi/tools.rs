//! The tools the assistant can call, declared once: the same declaration reads a call's
//! arguments (names, aliases, length bounds) and prints the definition to paste into Vapi
//! (`cargo run -p callbook-core --bin vapi-tools`), so the dashboard cannot drift from the parser.

use crate::values::speech::Refusal;
use serde_json::{Map, Value, json};

/// Longest value accepted for any one argument: a spoken name or service is far shorter.
pub const MAX_ARGUMENT_LEN: usize = 200;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ToolParam {
    pub name: &'static str,
    /// Other names models use for it; accepted, never advertised.
    pub aliases: &'static [&'static str],
    /// Said in the error when it is missing or wrong: "the caller's name".
    pub label: &'static str,
    pub description: &'static str,
    pub required: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ToolSpec {
    pub name: &'static str,
    pub description: &'static str,
    pub params: &'static [ToolParam],
}

pub const BOOK_APPOINTMENT: ToolSpec = ToolSpec {
    name: "bookAppointment",
    description: "Book an appointment for the caller. Pass the date and time as the caller said them (e.g. tomorrow, Friday, November 28; 2pm, 14:30): the server resolves them in the business's time zone. Read the result to the caller.",
    params: &[
        ToolParam {
            name: "customerName",
            aliases: &["name"],
            label: "caller's name",
            description: "The caller's full name as they spell it: letters, spaces, apostrophes, hyphens and periods",
            required: true,
        },
        ToolParam {
            name: "customerPhone",
            aliases: &["phone", "phoneNumber"],
            label: "phone number",
            description: "The caller's phone number; leave empty to use the number they are calling from",
            required: false,
        },
        ToolParam {
            name: "customerEmail",
            aliases: &["email"],
            label: "email address",
            description: "The caller's email address, for the confirmation",
            required: true,
        },
        ToolParam {
            name: "serviceType",
            aliases: &["service"],
            label: "service",
            description: "The service to book, e.g. Consultation",
            required: true,
        },
        ToolParam {
            name: "date",
            aliases: &[],
            label: "date",
            description: "The day as the caller said it: today, tomorrow, Friday, November 28, 2026-11-28",
            required: true,
        },
        ToolParam {
            name: "time",
            aliases: &[],
            label: "time",
            description: "The time as the caller said it: 2pm, 2:30 pm, 14:00, noon",
            required: true,
        },
    ],
};

pub const CHECK_AVAILABILITY: ToolSpec = ToolSpec {
    name: "checkAvailability",
    description: "Find free appointment times on a day. Pass the day as the caller said it. Read the result to the caller and let them choose, then book with bookAppointment.",
    params: &[
        ToolParam {
            name: "serviceType",
            aliases: &["service"],
            label: "service",
            description: "The service the caller wants, e.g. Consultation",
            required: true,
        },
        ToolParam {
            name: "date",
            aliases: &[],
            label: "day",
            description: "The day as the caller said it: today, tomorrow, Friday, November 28, 2026-11-28",
            required: true,
        },
        ToolParam {
            name: "timePreference",
            aliases: &["preference", "time"],
            label: "time preference",
            description: "Optional: morning, afternoon, evening, or a time the caller would like to be near (around 3pm)",
            required: false,
        },
    ],
};

const BOOKING_REFERENCE: ToolParam = ToolParam {
    name: "bookingReference",
    aliases: &["reference", "confirmationNumber"],
    label: "booking reference",
    description: "The six-character booking reference, if the caller has it; otherwise leave empty and the caller's phone number is used",
    required: false,
};

const CUSTOMER_PHONE: ToolParam = ToolParam {
    name: "customerPhone",
    aliases: &["phone", "phoneNumber"],
    label: "phone number",
    description: "The phone number the booking was made with; leave empty to use the number they are calling from",
    required: false,
};

pub const RESCHEDULE_APPOINTMENT: ToolSpec = ToolSpec {
    name: "rescheduleAppointment",
    description: "Move the caller's existing appointment to a new day and time. Identify it by booking reference or by the caller's phone number. Pass the new day and time as the caller said them. Read the result to the caller.",
    params: &[
        BOOKING_REFERENCE,
        CUSTOMER_PHONE,
        ToolParam {
            name: "newDate",
            aliases: &["date"],
            label: "new date",
            description: "The new day as the caller said it: tomorrow, Friday, November 28, 2026-11-28",
            required: true,
        },
        ToolParam {
            name: "newTime",
            aliases: &["time"],
            label: "new time",
            description: "The new time as the caller said it: 2pm, 2:30 pm, 14:00, noon",
            required: true,
        },
    ],
};

pub const CANCEL_APPOINTMENT: ToolSpec = ToolSpec {
    name: "cancelAppointment",
    description: "Cancel the caller's existing appointment. Identify it by booking reference or by the caller's phone number. Confirm with the caller before calling this. Read the result to the caller.",
    params: &[
        BOOKING_REFERENCE,
        CUSTOMER_PHONE,
        ToolParam {
            name: "reason",
            aliases: &[],
            label: "reason",
            description: "Optional: why the caller is cancelling",
            required: false,
        },
    ],
};

pub const GET_APPOINTMENTS: ToolSpec = ToolSpec {
    name: "getAppointments",
    description: "List the caller's upcoming appointments (service, day, time and reference). Read the result to the caller.",
    params: &[CUSTOMER_PHONE],
};

pub const VERIFY_CALLER: ToolSpec = ToolSpec {
    name: "verifyCaller",
    description: "Confirm the caller holds the phone number a booking was made with, when they call \
                  from another number: first call it with the number (a code is texted there), \
                  then again with the number and the code the caller reads back. Read the result \
                  to the caller.",
    params: &[
        ToolParam {
            name: "phoneNumber",
            aliases: &["customerPhone", "phone"],
            label: "phone number",
            description: "The phone number the booking was made with",
            required: true,
        },
        ToolParam {
            name: "code",
            aliases: &["verificationCode"],
            label: "code",
            description: "The six-digit code the caller read back; leave empty to send one",
            required: false,
        },
    ],
};

pub const CAPTURE_LEAD: ToolSpec = ToolSpec {
    name: "captureLead",
    description: "Pass a caller's interest on to the business when they do not book now (they want  a call back, a quote, or more information). Read the result to the caller.",
    params: &[
        ToolParam {
            name: "name",
            aliases: &["customerName"],
            label: "caller's name",
            description: "The caller's name as they spell it: letters, spaces, apostrophes, hyphens and periods",
            required: true,
        },
        ToolParam {
            name: "phone",
            aliases: &["customerPhone", "phoneNumber"],
            label: "phone number",
            description: "The number to call back; leave empty to use the number they are calling from",
            required: false,
        },
        ToolParam {
            name: "email",
            aliases: &["customerEmail"],
            label: "email address",
            description: "Optional: the caller's email address",
            required: false,
        },
        ToolParam {
            name: "interest",
            aliases: &["serviceType", "service"],
            label: "area of interest",
            description: "What the caller is interested in, e.g. teeth whitening, a quote for a consultation",
            required: true,
        },
        ToolParam {
            name: "notes",
            aliases: &[],
            label: "notes",
            description: "Optional: anything else worth passing on (best time to call back, budget, urgency)",
            required: false,
        },
    ],
};

/// Every tool the webhook answers.
pub const TOOLS: &[&ToolSpec] = &[
    &CHECK_AVAILABILITY,
    &BOOK_APPOINTMENT,
    &RESCHEDULE_APPOINTMENT,
    &CANCEL_APPOINTMENT,
    &GET_APPOINTMENTS,
    &CAPTURE_LEAD,
    &VERIFY_CALLER,
];

/// A tool the webhook answers, known by its declared name (`Tool::named`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tool {
    CheckAvailability,
    BookAppointment,
    RescheduleAppointment,
    CancelAppointment,
    GetAppointments,
    CaptureLead,
    VerifyCaller,
}

impl Tool {
    pub const ALL: [Tool; 7] = [
        Self::CheckAvailability,
        Self::BookAppointment,
        Self::RescheduleAppointment,
        Self::CancelAppointment,
        Self::GetAppointments,
        Self::CaptureLead,
        Self::VerifyCaller,
    ];

    /// Its declaration: the name Vapi calls it by, its arguments.
    pub fn spec(self) -> &'static ToolSpec {
        match self {
            Self::CheckAvailability => &CHECK_AVAILABILITY,
            Self::BookAppointment => &BOOK_APPOINTMENT,
            Self::RescheduleAppointment => &RESCHEDULE_APPOINTMENT,
            Self::CancelAppointment => &CANCEL_APPOINTMENT,
            Self::GetAppointments => &GET_APPOINTMENTS,
            Self::CaptureLead => &CAPTURE_LEAD,
            Self::VerifyCaller => &VERIFY_CALLER,
        }
    }

    /// The tool a call names, by the declared names only (exact, as Vapi sends them).
    pub fn named(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|tool| tool.spec().name == name)
    }
}

impl ToolSpec {
    pub fn param(&self, name: &str) -> Option<&ToolParam> {
        self.params.iter().find(|p| p.name == name)
    }

    /// The Vapi function-tool definition; with `server_url`, the server block too.
    pub fn definition(&self, server_url: Option<&str>) -> Value {
        let properties: Map<String, Value> = self
            .params
            .iter()
            .map(|p| {
                (
                    p.name.to_string(),
                    json!({"type": "string", "description": p.description}),
                )
            })
            .collect();
        let required: Vec<&str> = self
            .params
            .iter()
            .filter(|p| p.required)
            .map(|p| p.name)
            .collect();
        let mut tool = json!({
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description.split_whitespace().collect::<Vec<_>>().join(" "),
                "parameters": {"type": "object", "properties": properties, "required": required},
            },
        });
        if let Some(url) = server_url {
            tool["server"] = json!({ "url": url });
        }
        tool
    }

    /// Reads the arguments of a call to this tool.
    pub fn arguments<'a>(&'static self, map: &'a Map<String, Value>) -> Arguments<'a> {
        Arguments { spec: self, map }
    }
}

/// A tool call's arguments, read through its spec.
pub struct Arguments<'a> {
    spec: &'static ToolSpec,
    map: &'a Map<String, Value>,
}

impl Arguments<'_> {
    /// The trimmed text of `name` (or an alias); numbers count as text (phone numbers).
    /// `Err` is a spoken sentence: the value is too long. A name the spec does not declare
    /// reads as absent, so the parser cannot use a name the definition does not advertise.
    pub fn text(&self, name: &str) -> Result<Option<String>, Refusal> {
        let Some(param) = self.spec.param(name) else {
            return Ok(None);
        };
        for key in std::iter::once(&param.name).chain(param.aliases) {
            match self.map.get(*key) {
                Some(Value::String(s)) if !s.trim().is_empty() => {
                    if s.len() > MAX_ARGUMENT_LEN {
                        return Err(format!(
                            "The {} I was given is too long; could you give a shorter one?",
                            param.label
                        )
                        .into());
                    }
                    return Ok(Some(s.trim().to_string()));
                }
                Some(Value::Number(n)) => return Ok(Some(n.to_string())),
                _ => {}
            }
        }
        Ok(None)
    }

    /// The labels of the arguments flagged missing, in order ("the caller's name", ...).
    pub fn missing(&self, flags: &[(&str, bool)]) -> Vec<String> {
        flags
            .iter()
            .filter(|(_, missing)| *missing)
            .map(|(name, _)| self.label(name).to_string())
            .collect()
    }

    pub fn label(&self, name: &str) -> &'static str {
        self.spec.param(name).map_or("detail", |p| p.label)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_tool_is_known_by_its_declared_name_only() {
        for tool in Tool::ALL {
            assert_eq!(Tool::named(tool.spec().name), Some(tool));
        }
        assert_eq!(Tool::ALL.len(), TOOLS.len());
        assert!(
            TOOLS
                .iter()
                .all(|spec| Tool::named(spec.name).is_some_and(|t| t.spec() == *spec))
        );
        for other in ["bookappointment", "book_appointment", "", "transferCall"] {
            assert_eq!(Tool::named(other), None, "{other}");
        }
    }

    #[test]
    fn definitions_are_vapi_function_tools() {
        let d = BOOK_APPOINTMENT.definition(Some("https://example.com/vapi-webhook"));
        assert_eq!(d["type"], "function");
        assert_eq!(d["function"]["name"], "bookAppointment");
        assert_eq!(
            d["function"]["parameters"]["properties"]["customerName"]["type"],
            "string"
        );
        assert_eq!(d["server"]["url"], "https://example.com/vapi-webhook");
        let required: Vec<&str> = d["function"]["parameters"]["required"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert_eq!(
            required,
            [
                "customerName",
                "customerEmail",
                "serviceType",
                "date",
                "time"
            ]
        );
        assert!(
            !d["function"]["description"]
                .as_str()
                .unwrap()
                .contains("  ")
        );
    }

    #[test]
    fn arguments_read_names_aliases_and_numbers() {
        let map =
            json!({"name": " Ada ", "phone": 17025551234_u64, "date": "", "time": "x".repeat(201)});
        let args = BOOK_APPOINTMENT.arguments(map.as_object().unwrap());
        assert_eq!(args.text("customerName"), Ok(Some("Ada".into())));
        assert_eq!(args.text("customerPhone"), Ok(Some("17025551234".into())));
        assert_eq!(args.text("date"), Ok(None));
        assert!(
            args.text("time")
                .unwrap_err()
                .contains("time I was given is too long")
        );
        assert_eq!(args.text("undeclared"), Ok(None));
    }

    /// The README shows the generated definitions; they must be what the code prints.
    #[test]
    fn the_readme_shows_the_generated_definitions() {
        let readme = include_str!("../../../../README.md");
        let start = readme
            .find("<!-- vapi-tools -->")
            .expect("README has a <!-- vapi-tools --> block");
        let block = &readme[start..];
        let json_start = block.find("```json\n").expect("json fence") + "```json\n".len();
        let json_end = block[json_start..].find("```").expect("closing fence") + json_start;
        let shown: Value =
            serde_json::from_str(&block[json_start..json_end]).expect("README tool JSON parses");
        let generated = Value::Array(TOOLS.iter().map(|t| t.definition(None)).collect());
        assert_eq!(
            shown, generated,
            "run `make vapi-tools` and paste its output into the README"
        );
    }
}
