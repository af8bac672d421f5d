//! What the relay does to the envelope: `MAIL FROM` signed on the pack
//! side, `RCPT TO` reversed on the unpack side, each read as Postfix's
//! smtpd reads it and refused when it cannot be read.

use super::smtp::{path, strict};
use super::{BAD_RECIPIENT, BAD_SENDER, DATABASE_TEMPFAIL, REFUSED_SRS, RelaySettings};
use crate::engine::{Answer, NotRewritten, Rewriter};
use crate::srs::{Form, looks_like_srs};

/// What becomes of a `MAIL FROM` line on the pack side.
pub(super) enum Signing {
    /// Passed as it is: the null sender, a listed domain, or a sender the
    /// forward rules leave alone (ours already, at a local domain).
    Pass,
    /// The command, in the strict form, with the signed sender.
    Signed(Vec<u8>),
    /// Answered here and never passed on: a sender that cannot be read or
    /// signed (501), or a database failure (451).
    Refused(&'static [u8]),
    /// Kept back until the first recipient names the domain to sign with
    /// (`srs-domain-from = recipient`).
    Hold(Held),
}

/// A sender kept back until the first recipient's `ORCPT` says which of our
/// domains forwards the mail.
#[derive(Clone, Debug)]
pub(super) struct Held {
    /// The command as the client sent it, CR LF ended.
    line: Vec<u8>,
    head: Vec<u8>,
    address: String,
    params: Vec<u8>,
}

impl Held {
    /// The sender signed with the domain of the original recipient that
    /// `rcpt` (a `RCPT TO` line) names in its `ORCPT`, when that is one of
    /// our domains, and with the SRS domain otherwise. [`Signing::Pass`]
    /// stands for the command as the client sent it ([`Held::line`]).
    pub(super) fn sign(
        &self,
        rcpt: &[u8],
        lookup: &Rewriter<'_>,
        settings: &RelaySettings,
    ) -> Signing {
        let Some(srs_domain) = settings.domains.first() else {
            return Signing::Pass;
        };
        let forwarding = path(rcpt, b"RCPT", b"TO")
            .and_then(|r| r.orcpt_domain())
            .filter(|d| listed(settings, d) || lookup.srs.is_ours(d, Some(lookup.domain)));
        let domain = forwarding.as_deref().unwrap_or(srs_domain);
        signing(
            lookup.forward(&self.address, domain, Form::External),
            |signed| strict(&self.head, signed, &self.params),
        )
    }

    /// The command as the client sent it.
    pub(super) fn line(&self) -> &[u8] {
        &self.line
    }
}

pub(super) fn sign_sender(line: &[u8], lookup: &Rewriter<'_>, settings: &RelaySettings) -> Signing {
    let Some(sender) = path(line, b"MAIL", b"FROM") else {
        return Signing::Refused(BAD_SENDER);
    };
    let address = sender.address;
    if address.is_empty() {
        return Signing::Pass;
    }
    let Some((_, host)) = address.rsplit_once('@') else {
        return Signing::Refused(BAD_SENDER);
    };
    if listed(settings, host.trim_end_matches('.')) {
        return Signing::Pass;
    }
    let Some(srs_domain) = settings.domains.first() else {
        return Signing::Pass;
    };
    if settings.domain_from_orcpt {
        let mut line = line.to_vec();
        line.extend_from_slice(b"\r\n");
        return Signing::Hold(Held {
            line,
            head: sender.head.to_vec(),
            address: address.to_owned(),
            params: sender.params.to_vec(),
        });
    }
    signing(
        lookup.forward(address, srs_domain, Form::External),
        |signed| sender.strict(signed),
    )
}

/// Whether `domain` is one of the relay's domains (any case).
fn listed(settings: &RelaySettings, domain: &str) -> bool {
    settings
        .domains
        .iter()
        .any(|d| d.eq_ignore_ascii_case(domain))
}

/// What forward's `answer` makes of a `MAIL FROM`: the command `strict`
/// writes with the signed sender, the command as sent, or a refusal.
fn signing(answer: Answer, strict: impl FnOnce(&str) -> Vec<u8>) -> Signing {
    match answer {
        Answer::Found(signed) => Signing::Signed(strict(&signed)),
        Answer::NotFound(NotRewritten::Forward(_)) => Signing::Refused(BAD_SENDER),
        Answer::NotFound(_) => Signing::Pass,
        Answer::TempFail(_) => Signing::Refused(DATABASE_TEMPFAIL),
    }
}

pub(super) enum Reversal {
    /// Not an SRS recipient: passed on.
    NotSrs,
    /// The command, in the strict form, with the original address in
    /// place of the SRS one.
    Reversed(Vec<u8>),
    /// Answered here, never sent upstream: forged, expired or malformed
    /// (550), unreadable (501), or a database failure (451).
    Refused(&'static [u8]),
}

pub(super) fn reverse_recipient(
    line: &[u8],
    lookup: &Rewriter<'_>,
    settings: &RelaySettings,
) -> Reversal {
    let Some(recipient) = path(line, b"RCPT", b"TO") else {
        return Reversal::Refused(BAD_RECIPIENT);
    };
    let address = recipient.address;
    let host = address.rsplit_once('@').map_or("", |(_, h)| h);
    let our_domain_form = std::iter::once(lookup.domain)
        .chain(settings.domains.iter().map(String::as_str))
        .any(|d| lookup.srs.in_our_srs_subdomains(host, Some(d)));
    if !looks_like_srs(address) && !our_domain_form {
        return Reversal::NotSrs;
    }
    match lookup.reverse(address, Form::External) {
        Answer::Found(original) => Reversal::Reversed(recipient.strict(&original)),
        Answer::NotFound(_) => Reversal::Refused(REFUSED_SRS),
        Answer::TempFail(_) => Reversal::Refused(DATABASE_TEMPFAIL),
    }
}
