//! The milter protocol (version 6), as Postfix and sendmail speak it to a
//! mail filter: packets of a 4-byte big-endian length, a command byte and
//! its data. A session signs every outgoing envelope sender (SMFIR_CHGFROM
//! at end of message), turns valid SRS recipients back into the original
//! addresses (DELRCPT and ADDRCPT), refuses forged, expired and malformed
//! ones at RCPT, and can refuse forged bounces: the null sender with a local
//! recipient that carries no SRS signature.
//!
//! Sans-I/O like the other protocols: bytes in, replies out.

use super::{Progress, Settings};

use crate::engine::{Answer, Rewriter};
use crate::srs::{Form, looks_like_srs, strip_angle_brackets};

/// Longest packet accepted (length field: command byte plus data). libmilter
/// caps data near 64 KiB; with headers and bodies declined, nothing an MTA
/// sends this filter comes near it.
pub const MAX_PACKET: usize = 65_536;

/// The protocol version spoken.
pub const VERSION: u32 = 6;

/// Actions: change the envelope sender, add and delete recipients, add a
/// recipient with ESMTP parameters.
const ACTIONS: u32 = SMFIF_ADDRCPT | SMFIF_DELRCPT | SMFIF_CHGFROM | SMFIF_ADDRCPT_PAR;
const SMFIF_ADDRCPT: u32 = 0x04;
const SMFIF_DELRCPT: u32 = 0x08;
const SMFIF_CHGFROM: u32 = 0x40;
const SMFIF_CHGHDRS: u32 = 0x10;
const SMFIF_ADDRCPT_PAR: u32 = 0x80;

/// Steps declined and steps that need no reply: only MAIL, RCPT, DATA and
/// end of message matter here.
const WANTED_PROTOCOL: u32 = SMFIP_NOCONNECT
    | SMFIP_NOHELO
    | SMFIP_NOBODY
    | SMFIP_NOHDRS
    | SMFIP_NOEOH
    | SMFIP_NOUNKNOWN
    | SMFIP_NR_HDR
    | SMFIP_NR_CONN
    | SMFIP_NR_HELO
    | SMFIP_NR_UNKN
    | SMFIP_NR_EOH
    | SMFIP_NR_BODY;
const SMFIP_NOCONNECT: u32 = 0x1;
const SMFIP_NOHELO: u32 = 0x2;
const SMFIP_NOBODY: u32 = 0x10;
const SMFIP_NOHDRS: u32 = 0x20;
const SMFIP_NOEOH: u32 = 0x40;
const SMFIP_NR_HDR: u32 = 0x80;
const SMFIP_NOUNKNOWN: u32 = 0x100;
const SMFIP_NR_CONN: u32 = 0x1000;
const SMFIP_NR_HELO: u32 = 0x2000;
const SMFIP_NR_UNKN: u32 = 0x2_0000;
const SMFIP_NR_EOH: u32 = 0x4_0000;
const SMFIP_NR_BODY: u32 = 0x8_0000;

/// Which senders are signed (`--milter-rewrite`). The default, every
/// sender, is the sendmail integration guide's rule, which lets every
/// bounce be checked: a milter sees recipients before alias expansion, so
/// it cannot tell which mail an alias forwards.
#[derive(clap::ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RewriteWhen {
    /// Every sender the forward rules rewrite (the sendmail SRS guide's rule)
    #[default]
    Always,
    /// Only when at least one recipient is not local
    Forwarded,
}

/// When a forged bounce (null sender, unsigned local recipient) is refused
/// (`--bounce-policy`); never by default. Refusing is sound only where
/// every sender of the local domains is signed (`always-rewrite`):
/// otherwise every genuine bounce to a local user is unsigned, and would be
/// refused. At DATA, an address probe (RCPT, then RSET or QUIT) still
/// passes: the sendmail guide's conservative rule.
#[derive(clap::ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum BouncePolicy {
    /// Never refuse a bounce for want of a signature
    #[default]
    Off,
    /// Refuse at DATA, so address probes (RCPT without DATA) still pass
    Data,
    /// Refuse at RCPT
    Rcpt,
}

/// Which domain senders are signed with (`--srs-domain-from`): with
/// `Recipient`, the milter takes the domain of the message's first local
/// recipient in RCPT order that is the SRS domain or a local domain (the
/// domain that forwards it), and the relay that of the first recipient's
/// ORCPT; the SRS domain when there is none.
#[derive(clap::ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DomainFrom {
    /// Always --domain
    #[default]
    Fixed,
    /// The domain of the first local recipient (milter), or of the first recipient's ORCPT (relay-pack), when it is --domain or a local domain
    Recipient,
}

/// How the milter behaves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MilterSettings {
    /// Which senders are signed.
    pub rewrite: RewriteWhen,
    /// Which domain they are signed with.
    pub domain_from: DomainFrom,
    /// When forged bounces are refused.
    pub bounce_policy: BouncePolicy,
    /// Reply to a forged, expired or malformed SRS recipient.
    pub reject_invalid: String,
    /// Reply to a forged bounce.
    pub reject_bounce: String,
    /// Local parts always accepted from the null sender, besides postmaster.
    pub exempt: Vec<String>,
    /// Rewrite a reversed recipient's SRS address in the `To:` header to
    /// the original, when the message carries no DKIM signature (which the
    /// change would break). Asks the MTA for the headers.
    pub rewrite_to: bool,
}

impl Default for MilterSettings {
    fn default() -> Self {
        MilterSettings {
            rewrite: RewriteWhen::default(),
            domain_from: DomainFrom::default(),
            bounce_policy: BouncePolicy::default(),
            reject_invalid: "550 5.1.1 Invalid SRS address".to_owned(),
            reject_bounce: "554 5.7.1 Bounce to an address this site never used as a sender"
                .to_owned(),
            exempt: Vec::new(),
            rewrite_to: false,
        }
    }
}

/// The milter protocol, for Postfix's `smtpd_milters` and sendmail's
/// `INPUT_MAIL_FILTER`.
pub struct Milter;

impl super::Protocol for Milter {
    fn name(&self) -> &'static str {
        "milter"
    }

    fn service(&self) -> super::Service {
        super::Service::Lookups(Box::new(MilterSession::default()))
    }
}

impl super::Session for MilterSession {
    fn fork(&self) -> Box<dyn super::Session> {
        Box::new(self.clone())
    }

    fn serve(
        &mut self,
        input: &[u8],
        lookup: &Rewriter<'_>,
        settings: &Settings,
        out: &mut Vec<u8>,
    ) -> Progress {
        MilterSession::serve(self, input, lookup, &settings.milter, out)
    }
}

/// What a packet says, decoded.
#[derive(Debug, PartialEq, Eq)]
pub enum Packet<'a> {
    /// `O`: the MTA's version, actions and protocol flags.
    Negotiate {
        /// Protocol version.
        version: u32,
        /// Actions the MTA allows.
        actions: u32,
        /// Protocol steps the MTA can leave out or not wait on.
        protocol: u32,
    },
    /// `D`: macros for the command `for`.
    Macros {
        /// The command the macros go with.
        for_command: u8,
        /// Name and value pairs.
        pairs: Vec<(&'a [u8], &'a [u8])>,
    },
    /// `M`: MAIL FROM with its ESMTP parameters.
    Mail(Vec<&'a [u8]>),
    /// `R`: RCPT TO with its ESMTP parameters.
    Rcpt(Vec<&'a [u8]>),
    /// `L`: one header field, name and value.
    Header(&'a [u8], &'a [u8]),
    /// `T`: DATA.
    Data,
    /// `E`: end of message.
    EndOfMessage,
    /// `A`: the transaction is abandoned.
    Abort,
    /// `Q`: the connection ends.
    Quit,
    /// `K`: the connection ends, and a new one starts on the same socket.
    QuitNewConnection,
    /// Any other command the MTA may send (connect, HELO, header, body,
    /// unknown SMTP command): answered with continue.
    Other(u8),
}

/// A packet that cannot be read; the connection is closed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PacketError {
    /// The length is 0, or over [`MAX_PACKET`].
    Length(usize),
    /// The data does not fit its command.
    Malformed(u8),
    /// No command has this code.
    UnknownCommand(u8),
}

/// Splits NUL-terminated strings; `None` if the last one is not terminated.
fn strings(data: &[u8]) -> Option<Vec<&[u8]>> {
    if data.is_empty() {
        return Some(Vec::new());
    }
    let body = data.strip_suffix(b"\0")?;
    Some(body.split(|&b| b == 0).collect())
}

fn u32_at(data: &[u8], at: usize) -> Option<u32> {
    let bytes: [u8; 4] = data.get(at..at + 4)?.try_into().ok()?;
    Some(u32::from_be_bytes(bytes))
}

/// The first complete packet in `input` and the bytes it takes, `Ok(None)`
/// when more input is needed. The length is checked before anything waits
/// for the data, so no client makes the daemon hold more than [`MAX_PACKET`].
pub fn decode(input: &[u8]) -> Result<Option<(Packet<'_>, usize)>, PacketError> {
    let Some(len) = u32_at(input, 0) else {
        return Ok(None);
    };
    let len = len as usize;
    if len == 0 || len > MAX_PACKET {
        return Err(PacketError::Length(len));
    }
    let Some(body) = input.get(4..4 + len) else {
        return Ok(None);
    };
    let (command, data) = (body[0], &body[1..]);
    let malformed = || PacketError::Malformed(command);
    let packet = match command {
        b'O' => Packet::Negotiate {
            version: u32_at(data, 0).ok_or_else(malformed)?,
            actions: u32_at(data, 4).ok_or_else(malformed)?,
            protocol: u32_at(data, 8).ok_or_else(malformed)?,
        },
        b'D' => {
            let (&for_command, rest) = data.split_first().ok_or_else(malformed)?;
            let words = strings(rest).ok_or_else(malformed)?;
            if words.len() % 2 != 0 {
                return Err(malformed());
            }
            Packet::Macros {
                for_command,
                pairs: words.chunks_exact(2).map(|p| (p[0], p[1])).collect(),
            }
        }
        b'M' | b'R' => {
            let words = strings(data)
                .filter(|w| !w.is_empty())
                .ok_or_else(malformed)?;
            if command == b'M' {
                Packet::Mail(words)
            } else {
                Packet::Rcpt(words)
            }
        }
        b'T' => Packet::Data,
        b'E' => Packet::EndOfMessage,
        b'A' => Packet::Abort,
        b'Q' => Packet::Quit,
        b'K' => Packet::QuitNewConnection,
        b'L' => match strings(data).ok_or_else(malformed)?[..] {
            [name, value] => Packet::Header(name, value),
            _ => return Err(malformed()),
        },
        b'C' | b'H' | b'N' | b'B' | b'U' => Packet::Other(command),
        other => return Err(PacketError::UnknownCommand(other)),
    };
    Ok(Some((packet, 4 + len)))
}

/// Appends one packet: length, command, data.
fn packet(out: &mut Vec<u8>, command: u8, parts: &[&[u8]]) {
    let len = 1 + parts.iter().map(|p| p.len()).sum::<usize>();
    out.extend_from_slice(&(len as u32).to_be_bytes());
    out.push(command);
    for p in parts {
        out.extend_from_slice(p);
    }
}

/// A recipient of the transaction, as the MTA gave it.
#[derive(Clone, Debug)]
struct Recipient {
    /// The RCPT argument as given (angle brackets and case kept), which
    /// DELRCPT must name.
    given: String,
    /// Its ESMTP parameters.
    params: Vec<String>,
    /// The original address, when this is a valid SRS address of ours.
    reversed: Option<String>,
    /// Whether it is delivered here rather than relayed; for an SRS
    /// address, whether the address it reverses to is.
    local: bool,
    /// Its domain, when that is the SRS domain or a local domain and the
    /// address is not an SRS address: a domain that may forward the mail.
    forwarding_domain: Option<String>,
}

/// One milter connection: the negotiated flags, the macros of the current
/// command, and the transaction so far. Everything is reset on abort.
#[derive(Clone, Debug, Default)]
pub struct MilterSession {
    /// Protocol flags agreed at negotiation.
    protocol: u32,
    /// Actions agreed at negotiation.
    actions: u32,
    /// `{rcpt_mailer}` of the recipient about to come.
    rcpt_mailer: Option<String>,
    /// The envelope sender (without brackets) and its ESMTP parameters.
    sender: Option<(String, Vec<String>)>,
    recipients: Vec<Recipient>,
    /// A null-sender transaction has an unsigned local recipient.
    forged_bounce: bool,
    /// The values of the `To:` header fields, in order.
    to_headers: Vec<String>,
    /// The message carries a `DKIM-Signature:` header field.
    dkim_signed: bool,
}

impl MilterSession {
    /// Answers every complete packet at the front of `input` into `out`.
    pub fn serve(
        &mut self,
        input: &[u8],
        lookup: &Rewriter<'_>,
        settings: &MilterSettings,
        out: &mut Vec<u8>,
    ) -> Progress {
        let mut p = Progress::default();
        loop {
            match decode(&input[p.consumed..]) {
                Ok(None) => return p,
                Ok(Some((packet, used))) => {
                    p.consumed += used;
                    if !self.answer(packet, lookup, settings, out) {
                        p.close = true;
                        return p;
                    }
                }
                Err(_) => {
                    // Nothing sane can be replied; the MTA applies its
                    // default action for a failed milter.
                    p.consumed = input.len();
                    p.close = true;
                    return p;
                }
            }
        }
    }

    /// Acts on one packet; `false` when the connection ends.
    fn answer(
        &mut self,
        packet: Packet<'_>,
        lookup: &Rewriter<'_>,
        settings: &MilterSettings,
        out: &mut Vec<u8>,
    ) -> bool {
        match packet {
            Packet::Negotiate {
                version,
                actions,
                protocol,
            } => {
                if version < 2 {
                    return false;
                }
                let (wanted_actions, wanted_protocol) = if settings.rewrite_to {
                    (ACTIONS | SMFIF_CHGHDRS, WANTED_PROTOCOL & !SMFIP_NOHDRS)
                } else {
                    (ACTIONS, WANTED_PROTOCOL)
                };
                self.actions = wanted_actions & actions;
                // Only steps the MTA offers to leave out can be left out.
                self.protocol = wanted_protocol & protocol;
                if lookup.logs() {
                    warn_unoffered(self.actions);
                }
                packet_u32s(
                    out,
                    b'O',
                    &[VERSION.min(version), self.actions, self.protocol],
                );
            }
            Packet::Macros { for_command, pairs } => {
                if for_command == b'R' {
                    self.rcpt_mailer = pairs
                        .iter()
                        .find(|(name, _)| *name == b"{rcpt_mailer}")
                        .map(|(_, v)| String::from_utf8_lossy(v).into_owned());
                }
            }
            Packet::Mail(words) => {
                self.reset();
                let text = |w: &&[u8]| String::from_utf8_lossy(w).into_owned();
                let sender = strip_angle_brackets(&text(&words[0])).to_owned();
                self.sender = Some((sender, words[1..].iter().map(text).collect()));
                reply(out, b'c', None);
            }
            Packet::Rcpt(words) => {
                let reply_with = self.recipient(&words, lookup, settings);
                reply(
                    out,
                    if reply_with.is_some() { b'y' } else { b'c' },
                    reply_with,
                );
            }
            Packet::Header(name, value) => {
                self.header(name, value);
                if self.protocol & SMFIP_NR_HDR == 0 {
                    reply(out, b'c', None);
                }
            }
            Packet::Data => {
                if self.forged_bounce && settings.bounce_policy == BouncePolicy::Data {
                    reply(out, b'y', Some(&settings.reject_bounce));
                } else {
                    reply(out, b'c', None);
                }
            }
            Packet::EndOfMessage => {
                match self.modifications(lookup, settings, out) {
                    Ok(()) => reply(out, b'c', None),
                    // The sender could not be signed: the MTA keeps the
                    // message and tries again.
                    Err(()) => reply(out, b'y', Some(DATABASE_TEMPFAIL)),
                }
                self.reset();
            }
            Packet::Abort => self.reset(),
            Packet::Quit => return false,
            Packet::QuitNewConnection => {
                self.reset();
                self.protocol = 0;
                self.actions = 0;
            }
            Packet::Other(command) => {
                // Steps declined at negotiation should not come; if one does,
                // answer it unless it was agreed to need no answer.
                let no_reply = match command {
                    b'C' => SMFIP_NR_CONN,
                    b'H' => SMFIP_NR_HELO,
                    b'N' => SMFIP_NR_EOH,
                    b'B' => SMFIP_NR_BODY,
                    _ => SMFIP_NR_UNKN,
                };
                if self.protocol & no_reply == 0 {
                    reply(out, b'c', None);
                }
            }
        }
        true
    }

    /// Forgets the transaction.
    fn reset(&mut self) {
        self.sender = None;
        self.recipients.clear();
        self.forged_bounce = false;
        self.rcpt_mailer = None;
        self.to_headers.clear();
        self.dkim_signed = false;
    }

    /// Notes what the `To:` rewrite needs from a header field.
    fn header(&mut self, name: &[u8], value: &[u8]) {
        if name.eq_ignore_ascii_case(b"To") {
            self.to_headers
                .push(String::from_utf8_lossy(value).into_owned());
        } else if name.eq_ignore_ascii_case(b"DKIM-Signature") {
            self.dkim_signed = true;
        }
    }

    /// Records a recipient; gives the rejection reply if it is refused.
    fn recipient<'s>(
        &mut self,
        words: &[&[u8]],
        lookup: &Rewriter<'_>,
        settings: &'s MilterSettings,
    ) -> Option<&'s str> {
        let given = String::from_utf8_lossy(words[0]).into_owned();
        let address = strip_angle_brackets(&given).to_owned();
        let host = address.rsplit_once('@').map_or("", |(_, h)| h);
        let local_part = address
            .rsplit_once('@')
            .map_or(address.as_str(), |(l, _)| l);
        let ours = lookup.srs.is_ours(host, Some(lookup.domain));
        let mut reversed = None;
        if (ours && looks_like_srs(local_part))
            || lookup.srs.in_our_srs_subdomains(host, Some(lookup.domain))
        {
            match lookup.reverse(&address, Form::External) {
                Answer::Found(original) => reversed = Some(original),
                Answer::NotFound(_) => return Some(&settings.reject_invalid),
                Answer::TempFail(_) => return Some(DATABASE_TEMPFAIL),
            }
        }
        // An SRS recipient is delivered where it reverses to: local only if
        // that is one of our domains. Otherwise the MTA's {rcpt_mailer}
        // says whether it relays the recipient.
        let local = match &reversed {
            Some(original) => {
                let host = original.rsplit_once('@').map_or("", |(_, h)| h);
                lookup.srs.is_ours(host, Some(lookup.domain))
            }
            None => {
                ours || self
                    .rcpt_mailer
                    .as_deref()
                    .is_some_and(|m| !matches!(m, "smtp" | "esmtp" | "relay" | "smtp8"))
            }
        };
        let null_sender = self.sender.as_ref().is_some_and(|(s, _)| s.is_empty());
        let exempt = local_part.eq_ignore_ascii_case("postmaster")
            || settings
                .exempt
                .iter()
                .any(|e| e.eq_ignore_ascii_case(local_part));
        if null_sender && local && reversed.is_none() && !exempt {
            match settings.bounce_policy {
                BouncePolicy::Rcpt => return Some(&settings.reject_bounce),
                BouncePolicy::Data => self.forged_bounce = true,
                BouncePolicy::Off => {}
            }
        }
        self.recipients.push(Recipient {
            given,
            params: words[1..]
                .iter()
                .map(|w| String::from_utf8_lossy(w).into_owned())
                .collect(),
            forwarding_domain: (ours && reversed.is_none()).then(|| host.to_ascii_lowercase()),
            reversed,
            local,
        });
        self.rcpt_mailer = None;
        None
    }

    /// The end-of-message actions: the signed sender, then each reversed
    /// recipient deleted and its original added with the same parameters.
    fn modifications(
        &self,
        lookup: &Rewriter<'_>,
        settings: &MilterSettings,
        out: &mut Vec<u8>,
    ) -> Result<(), ()> {
        let signed = match &self.sender {
            Some((sender, _))
                if self.actions & SMFIF_CHGFROM != 0
                    && !sender.is_empty()
                    && (settings.rewrite == RewriteWhen::Always
                        || self.recipients.iter().any(|r| !r.local)) =>
            {
                let domain = match settings.domain_from {
                    DomainFrom::Fixed => None,
                    DomainFrom::Recipient => self
                        .recipients
                        .iter()
                        .find_map(|r| r.forwarding_domain.as_deref()),
                };
                match lookup.forward(sender, domain.unwrap_or(lookup.domain), Form::External) {
                    Answer::Found(signed) => Some(signed),
                    Answer::TempFail(_) => return Err(()),
                    Answer::NotFound(_) => None,
                }
            }
            _ => None,
        };
        if let (Some(signed), Some((_, params))) = (signed, &self.sender) {
            let signed = format!("<{signed}>");
            let params = params.join(" ");
            packet(
                out,
                b'e',
                &[signed.as_bytes(), b"\0", params.as_bytes(), b"\0"],
            );
        }
        if settings.rewrite_to && self.actions & SMFIF_CHGHDRS != 0 && !self.dkim_signed {
            self.rewrite_to_headers(out);
        }
        if self.actions & SMFIF_DELRCPT == 0 {
            return Ok(());
        }
        for r in &self.recipients {
            let Some(original) = &r.reversed else {
                continue;
            };
            packet(out, b'-', &[r.given.as_bytes(), b"\0"]);
            let original = format!("<{original}>");
            if self.actions & SMFIF_ADDRCPT_PAR != 0 {
                let params = r.params.join(" ");
                packet(
                    out,
                    b'2',
                    &[original.as_bytes(), b"\0", params.as_bytes(), b"\0"],
                );
            } else {
                packet(out, b'+', &[original.as_bytes(), b"\0"]);
            }
        }
        Ok(())
    }
}

impl MilterSession {
    /// CHGHEADER for each `To:` field naming a reversed recipient's SRS
    /// address: the address replaced by the original (ASCII case ignored).
    fn rewrite_to_headers(&self, out: &mut Vec<u8>) {
        for (i, value) in self.to_headers.iter().enumerate() {
            let mut new = value.clone();
            for r in &self.recipients {
                let Some(original) = &r.reversed else {
                    continue;
                };
                let srs = strip_angle_brackets(&r.given);
                if let Some(at) = new.to_ascii_lowercase().find(&srs.to_ascii_lowercase()) {
                    new.replace_range(at..at + srs.len(), original);
                }
            }
            if new != *value {
                // CHGHEADER counts fields of that name from 1.
                let index = (i as u32 + 1).to_be_bytes();
                packet(out, b'm', &[&index, b"To\0", new.as_bytes(), b"\0"]);
            }
        }
    }
}

/// Logs, once for the connection, what the milter will not do for want of
/// an action the MTA did not offer at negotiation.
fn warn_unoffered(actions: u32) {
    let mut missing = Vec::new();
    if actions & SMFIF_CHGFROM == 0 {
        missing.push("CHGFROM: senders will not be signed");
    }
    if actions & SMFIF_DELRCPT == 0 || actions & (SMFIF_ADDRCPT | SMFIF_ADDRCPT_PAR) == 0 {
        missing.push("DELRCPT or ADDRCPT: bounces will not be reversed");
    }
    if !missing.is_empty() {
        log::warn!("milter: the MTA offers no {}", missing.join("; no "));
    }
}

/// The reply when the address database cannot answer: try again later.
const DATABASE_TEMPFAIL: &str = "451 4.3.0 SRS address database unavailable, try again later";

/// Appends a reply: a bare code, or a reply code with its text.
fn reply(out: &mut Vec<u8>, code: u8, text: Option<&str>) {
    match text {
        Some(text) => packet(out, code, &[text.as_bytes(), b"\0"]),
        None => packet(out, code, &[]),
    }
}

fn packet_u32s(out: &mut Vec<u8>, command: u8, values: &[u32]) {
    let bytes: Vec<[u8; 4]> = values.iter().map(|v| v.to_be_bytes()).collect();
    let parts: Vec<&[u8]> = bytes.iter().map(|b| &b[..]).collect();
    packet(out, command, &parts);
}
