//! Characters that must never reach an SMS or an email: controls (NUL, ESC...) and the
//! invisible format characters, bidi overrides among them (U+202E turns "gpj.exe" into
//! "exe.jpg" on screen). Names are refused when they carry one (`name`); the templates drop
//! them from anything stored before that rule (`visible`).

/// A control character, or an invisible format character: bidi marks, embeddings, overrides
/// and isolates, zero-width characters, the byte-order mark, soft hyphen, interlinear
/// annotation marks (Unicode general category Cc and the Cf characters in use).
pub fn is_hidden(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{AD}'
                | '\u{600}'..='\u{605}'
                | '\u{61C}'
                | '\u{6DD}'
                | '\u{70F}'
                | '\u{180E}'
                | '\u{200B}'..='\u{200F}'
                | '\u{2028}'..='\u{202E}'
                | '\u{2060}'..='\u{206F}'
                | '\u{FEFF}'
                | '\u{FFF9}'..='\u{FFFB}'
                | '\u{E0000}'..='\u{E007F}'
        )
}

/// `text` without hidden characters; line breaks are kept where `keep_lines` (an email's
/// text body), otherwise they become spaces.
pub fn visible(text: &str, keep_lines: bool) -> String {
    text.chars()
        .filter_map(|c| match c {
            '\n' if keep_lines => Some('\n'),
            '\r' if keep_lines => None,
            '\n' | '\r' | '\t' => Some(' '),
            c if is_hidden(c) => None,
            c => Some(c),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_and_bidi_are_hidden_letters_are_not() {
        for c in [
            '\0', '\u{1b}', '\u{7f}', '\u{202E}', '\u{2066}', '\u{200F}', '\u{FEFF}',
        ] {
            assert!(is_hidden(c), "{:?}", c);
        }
        for c in ['a', 'é', 'ж', 'ع', '李', ' ', '\''] {
            assert!(!is_hidden(c), "{c}");
        }
    }

    #[test]
    fn visible_drops_hidden_characters() {
        assert_eq!(visible("Ann\u{202E}\0 Lee\u{1b}[31m", false), "Ann Lee[31m");
        assert_eq!(visible("a\nb\r\n", true), "a\nb\n");
        assert_eq!(visible("a\nb", false), "a b");
    }
}
