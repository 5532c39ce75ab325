use super::*;

#[test]
fn names_in_any_script_are_names() {
    for name in [
        "Ann Lee",
        "Mary-Jane O'Brien",
        "Mary-Jane O\u{2019}Brien",
        "J.R.R. Tolkien",
        "Martin Luther King Jr.",
        "St. John Smythe",
        "José Núñez",
        "Jose\u{301} Nu\u{303}n\u{303}ez",
        "Zoë Ångström",
        "محمد عبد الله",
        "مُحَمَّد",
        "李小龍",
        "山田 太郎",
        "Пётр Чайковский",
        "Ελένη Παπαδοπούλου",
        "שָׁלוֹם כהן",
        "देवनागरी शर्मा",
        "สมชาย ใจดี",
        "김민준",
    ] {
        let parsed = CustomerName::parse(name);
        assert_eq!(
            parsed.as_ref().map(CustomerName::as_str),
            Ok(name),
            "{name}"
        );
    }
}

#[test]
fn spaces_are_trimmed_and_joined() {
    let name = CustomerName::parse("  Ann   Lee ").unwrap();
    assert_eq!(name.as_str(), "Ann Lee");
    assert_eq!(name.first_name(), "Ann");
}

#[test]
fn links_digits_and_hidden_characters_are_not_names() {
    for (raw, why) in [
        ("https://evil.example/verify Smith", NameError::NotALetter),
        ("evil.example Smith", NameError::Period),
        ("Ann x.co", NameError::Period),
        ("www.evil.example", NameError::Period),
        ("Ann Lee 2", NameError::Digit),
        ("Ann ٣", NameError::Digit),
        ("Ann\0Lee", NameError::Hidden),
        ("Ann\u{1b}[31mLee", NameError::Hidden),
        ("Ann \u{202E}eeL", NameError::Hidden),
        ("Ann\u{2066}Lee", NameError::Hidden),
        ("Ann\u{200B}Lee", NameError::Hidden),
        ("Ann\nLee", NameError::Hidden),
        ("ann@example.com", NameError::NotALetter),
        ("Ann <b>", NameError::NotALetter),
        ("Ann 😀", NameError::NotALetter),
        ("-- '", NameError::NotALetter),
        ("", NameError::Empty),
        ("   ", NameError::Empty),
    ] {
        assert_eq!(CustomerName::parse(raw), Err(why), "{raw:?}");
    }
    assert_eq!(
        CustomerName::parse(&"a".repeat(101)),
        Err(NameError::TooLong)
    );
    assert!(CustomerName::parse(&"é".repeat(100)).is_ok());
}

#[test]
fn the_caller_is_asked_to_say_it_again() {
    let refusal = CustomerName::parse_spoken("https://evil.example/verify Smith").unwrap_err();
    assert!(refusal.to_string().contains("say it again"), "{refusal}");
    let refusal = CustomerName::parse_spoken(&"a".repeat(101)).unwrap_err();
    assert!(refusal.to_string().contains("shorter"), "{refusal}");
}

#[test]
fn serde_validates() {
    let name: CustomerName = serde_json::from_str("\"Ann Lee\"").unwrap();
    assert_eq!(serde_json::to_string(&name).unwrap(), "\"Ann Lee\"");
    assert!(serde_json::from_str::<CustomerName>("\"https://x.example\"").is_err());
}

#[test]
fn plain_words_take_digits_but_not_links() {
    assert_eq!(
        plain_words(" 30 minute  massage "),
        Some("30 minute massage".into())
    );
    assert_eq!(plain_words("Cut & colour"), Some("Cut & colour".into()));
    assert_eq!(plain_words("https://evil.example/verify"), None);
    assert_eq!(plain_words("evil.example"), None);
    assert_eq!(plain_words("massage\u{202E}"), None);
    assert_eq!(plain_words("123"), None);
}
