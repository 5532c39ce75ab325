//! A customer's text, read: which of the few things we answer it asks for. Forgiving, as
//! people write ("Stop. Thank you", "yes!", "x"), but never guessing an action from a
//! sentence: "Can I come later?" is not a cancel. The sms-replies function does the rest.
//!
//! Words are the runs of letters, digits and inner hyphens, in upper case ("X-ray" is one
//! word, never an X); punctuation and emoji around them are ignored. An opt-out word anywhere
//! wins (a carrier's STOP must always work); otherwise the first word that is not a greeting
//! or a courtesy says what the text is, unless a later word asks for the opposite action
//! ("Yes, cancel it" is unclear: the help line explains). The one-letter actions (C, Y, X)
//! count only alone, with nothing but courtesies around them: "X marks the spot?" or
//! "C you at 3" is not an action.

/// What a customer's text asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmsReply {
    /// STOP and the carriers' other opt-out words: STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT.
    OptOut,
    /// START, UNSTOP.
    OptIn,
    /// HELP, INFO.
    Help,
    /// C, CONFIRM, YES, Y: the booking last reminded of is confirmed.
    Confirm,
    /// X: the booking last reminded of is cancelled (never CANCEL, a carrier's opt-out word).
    Cancel,
    /// Anything else: answered with the help line.
    Unknown,
}

impl SmsReply {
    /// The `Reply` dimension's value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OptOut => "opt-out",
            Self::OptIn => "opt-in",
            Self::Help => "help",
            Self::Confirm => "confirm",
            Self::Cancel => "cancel",
            Self::Unknown => "unknown",
        }
    }

    pub const ALL: [SmsReply; 6] = [
        Self::OptOut,
        Self::OptIn,
        Self::Help,
        Self::Confirm,
        Self::Cancel,
        Self::Unknown,
    ];
}

/// Opt-out words honoured anywhere in a text ("please stop texting me").
const STOP_ANYWHERE: &[&str] = &["STOP", "STOPALL", "UNSUBSCRIBE", "OPTOUT", "OPT-OUT"];
/// Opt-out words honoured as the keyword only: in a sentence they mean something else
/// ("Can I cancel?" is answered with the help line, which says X cancels). With the ones
/// above, the keywords AWS End User Messaging requires a self-managed opt-out list to honour.
const STOP_KEYWORDS: &[&str] = &["CANCEL", "END", "QUIT", "REMOVE", "REVOKE", "ARRET", "TD"];
const START_WORDS: &[&str] = &["START", "UNSTOP"];
const HELP_WORDS: &[&str] = &["HELP", "INFO"];
const CONFIRM_WORDS: &[&str] = &["C", "CONFIRM", "CONFIRMED", "YES", "Y"];
const CANCEL_WORDS: &[&str] = &["X"];
/// Actions of one letter: taken only when nothing but courtesies follows.
const ONE_LETTER: &[&str] = &["C", "Y", "X"];
/// Words before the keyword that change nothing ("Hi, C", "OK stop", "Please X").
const FILLERS: &[&str] = &[
    "HI", "HELLO", "HEY", "OK", "OKAY", "PLEASE", "PLS", "THANKS", "THANK", "YOU",
];

/// Reads a customer's text.
pub fn read_reply(text: &str) -> SmsReply {
    let words = words(text);
    if words.iter().any(|w| STOP_ANYWHERE.contains(&w.as_str())) {
        return SmsReply::OptOut;
    }
    let mut rest = words
        .iter()
        .map(String::as_str)
        .skip_while(|w| FILLERS.contains(w));
    let Some(keyword) = rest.next() else {
        return SmsReply::Unknown;
    };
    let later: Vec<&str> = rest.collect();
    let reply = if STOP_KEYWORDS.contains(&keyword) {
        SmsReply::OptOut
    } else if START_WORDS.contains(&keyword) {
        SmsReply::OptIn
    } else if HELP_WORDS.contains(&keyword) {
        SmsReply::Help
    } else if CONFIRM_WORDS.contains(&keyword) {
        SmsReply::Confirm
    } else if CANCEL_WORDS.contains(&keyword) {
        SmsReply::Cancel
    } else {
        SmsReply::Unknown
    };
    // An action contradicted later in the text is not taken.
    let contradicts = |opposite: &[&str]| later.iter().any(|w| opposite.contains(w));
    let alone = later.iter().all(|w| FILLERS.contains(w));
    match reply {
        SmsReply::Confirm | SmsReply::Cancel if ONE_LETTER.contains(&keyword) && !alone => {
            SmsReply::Unknown
        }
        SmsReply::Confirm if contradicts(CANCEL_WORDS) || contradicts(&["CANCEL"]) => {
            SmsReply::Unknown
        }
        SmsReply::Cancel if contradicts(CONFIRM_WORDS) => SmsReply::Unknown,
        other => other,
    }
}

/// The text's words in upper case: runs of letters, digits and hyphens, without the hyphens
/// at their ends (apostrophes dropped, so "don't" is one word; "X-ray" and "OPT-OUT" are one).
fn words(text: &str) -> Vec<String> {
    text.chars()
        .filter(|c| !matches!(c, '\'' | '\u{2019}'))
        .collect::<String>()
        .split(|c: char| !(c.is_alphanumeric() || c == '-'))
        .map(|w| w.trim_matches('-'))
        .filter(|w| !w.is_empty())
        .map(str::to_uppercase)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(expected: SmsReply, texts: &[&str]) {
        for text in texts {
            assert_eq!(read_reply(text), expected, "{text:?}");
        }
    }

    #[test]
    fn opt_out_words_in_any_case_and_with_anything_around() {
        check(
            SmsReply::OptOut,
            &[
                "STOP",
                "stop",
                "Stop",
                "Stop. Thank you",
                "STOP!!!",
                "  stop  ",
                "🛑 STOP",
                "Stop 🙏",
                "stop texting me",
                "please stop",
                "Please STOP sending these",
                "ok stop",
                "STOPALL",
                "stop all",
                "Unsubscribe",
                "unsubscribe me please",
                "CANCEL",
                "Cancel.",
                "cancel please",
                "END",
                "end",
                "QUIT",
                "Quit!",
                "yes stop",
                "X stop",
                "I said STOP",
                "Stop\nThanks",
            ],
        );
    }

    #[test]
    fn opt_in_words() {
        check(
            SmsReply::OptIn,
            &[
                "START",
                "start",
                "Start.",
                "unstop",
                "UNSTOP please",
                "Hi, start",
            ],
        );
    }

    #[test]
    fn help_words() {
        check(
            SmsReply::Help,
            &[
                "HELP",
                "help",
                "Help?",
                "help me",
                "INFO",
                "info please",
                "Hello, help",
            ],
        );
    }

    #[test]
    fn confirm_words() {
        check(
            SmsReply::Confirm,
            &[
                "C",
                "c",
                "C.",
                " c ",
                "yes!",
                "YES",
                "Yes please",
                "Yes, I'll be there",
                "yes 👍",
                "y",
                "Y",
                "confirm",
                "Confirmed",
                "CONFIRM thanks",
                "Hi, C",
                "OK yes",
                "Thank you, confirm",
                "\"C\"",
                "(c)",
            ],
        );
    }

    #[test]
    fn cancel_is_x_only() {
        check(
            SmsReply::Cancel,
            &[
                "X", "x", "x.", "X!", "X please", "Please x", "ok X", "x 😞", "[X]",
            ],
        );
    }

    #[test]
    fn sentences_and_other_texts_are_unknown() {
        check(
            SmsReply::Unknown,
            &[
                "",
                "   ",
                "...",
                "👍",
                "❌",
                "Can I come later?",
                "can i cancel my appointment?",
                "I want to cancel",
                "I'll be late",
                "Confirmation number?",
                "Yesterday was fine",
                "Cx",
                "xx",
                "Is that today?",
                "What time is it at?",
                "Who is this",
                "No",
                "N",
                "2",
                "Stopover in Paris",
                "Starting soon?",
                "Yes, cancel it",
                "C or X",
                "X, no wait, yes",
                "thanks",
                "hello",
                "Christopher here",
            ],
        );
    }

    #[test]
    fn the_dimension_values_are_distinct() {
        let mut names: Vec<&str> = SmsReply::ALL.iter().map(|r| r.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), SmsReply::ALL.len());
    }

    #[test]
    fn a_question_about_an_x_ray_or_a_c_section_is_no_action() {
        check(
            SmsReply::Unknown,
            &[
                "X-ray still needed?",
                "x-rays done?",
                "X marks the spot?",
                "C you at 3",
                "c-section follow up",
                "Y not tomorrow",
            ],
        );
        check(SmsReply::Cancel, &["X", "x please", "X, thanks!", "Hi X"]);
        check(
            SmsReply::Confirm,
            &["C", "c thanks", "Y", "yes see you then"],
        );
    }

    #[test]
    fn the_keywords_aws_requires_of_a_self_managed_opt_out_list_opt_out() {
        check(
            SmsReply::OptOut,
            &[
                "OPT-OUT",
                "opt-out please",
                "optout",
                "Remove",
                "REVOKE",
                "arret",
                "TD",
            ],
        );
        check(SmsReply::Unknown, &["Can you remove my old number?"]);
    }
}
