//! Input that is not an address: forward refuses it with a reason that names
//! the problem, the map protocols answer NOTFOUND, and the command-line tools
//! take the angle brackets MTAs print around addresses.

use std::time::{Duration, UNIX_EPOCH};

use mail_srs::engine::{Answer, Direction, NotRewritten, Rewriter};
use mail_srs::srs::{Form, ForwardError, Options, Srs};

fn srs() -> Srs {
    Srs::new(&[b"s3cret"], Options::default()).unwrap()
}

#[test]
fn forward_refuses_what_is_not_an_address() {
    let srs = srs();
    let now = UNIX_EPOCH + Duration::from_secs(1_795_435_200);
    for (form, sender, expected) in [
        (
            Form::External,
            "al\0ice@origin.example",
            ForwardError::ControlCharacter('\0'),
        ),
        (
            Form::Internal,
            "alice@origin.example\r",
            ForwardError::ControlCharacter('\r'),
        ),
        (
            Form::External,
            "\"al\u{7f}ice\"@origin.example",
            ForwardError::ControlCharacter('\u{7f}'),
        ),
        (
            Form::External,
            "al ice@origin.example",
            ForwardError::UnquotedWhitespace,
        ),
        (
            Form::External,
            "alice@origin.example ",
            ForwardError::BadDomainCharacter(' '),
        ),
        (
            Form::Internal,
            "alice@origin .example",
            ForwardError::BadDomainCharacter(' '),
        ),
        (
            Form::External,
            "<alice@origin.example>",
            ForwardError::BadDomainCharacter('>'),
        ),
        (
            Form::Internal,
            "<alice@origin.example>",
            ForwardError::BadDomainCharacter('>'),
        ),
        (
            Form::External,
            "<alice@origin.example",
            ForwardError::AngleBracket,
        ),
        (
            Form::External,
            "@origin.example",
            ForwardError::EmptyLocalPart,
        ),
        (
            Form::External,
            "\"\"@origin.example",
            ForwardError::EmptyLocalPart,
        ),
        (Form::External, "alice@", ForwardError::EmptyHost),
    ] {
        assert_eq!(
            srs.forward_in(form, sender, "fwd.example", now),
            Err(expected),
            "{sender:?}"
        );
    }
    // Quoted white space, and Postfix's unquoted rendering of it, still sign.
    for (form, sender) in [
        (Form::External, "\"john doe\"@origin.example"),
        (Form::Internal, "john doe@origin.example"),
    ] {
        assert!(
            srs.forward_in(form, sender, "fwd.example", now).is_ok(),
            "{sender}"
        );
    }
    assert_eq!(
        ForwardError::ControlCharacter('\0').to_string(),
        "control character U+0000 in the address"
    );
}

#[test]
fn map_lookups_answer_not_found_for_bracketed_keys() {
    let srs = srs();
    let lookup = Rewriter::new(
        &srs,
        "fwd.example",
        UNIX_EPOCH + Duration::from_secs(1_795_435_200),
    );
    let answer = lookup.map(Direction::Forward, "<alice@origin.example>");
    assert_eq!(
        answer,
        Answer::NotFound(NotRewritten::Forward(ForwardError::BadDomainCharacter('>')))
    );
}

#[test]
fn domains_are_checked() {
    use mail_srs::srs::check_domain;
    for good in [
        "fwd.example",
        "user@fwd.example",
        "fwd.example.",
        "xn--bcher-kva.example",
        "bücher.example",
    ] {
        assert_eq!(check_domain(good), Ok(()), "{good}");
    }
    for (bad, reason) in [
        ("bad domain", "' ' cannot appear in a domain"),
        ("", "the domain is empty"),
        ("user@", "the domain is empty"),
        ("a..example", "a domain has no empty labels (..)"),
        ("<fwd.example>", "'<' cannot appear in a domain"),
    ] {
        assert_eq!(check_domain(bad), Err(reason.to_owned()), "{bad}");
    }
}
