//! What the pipe helpers find out before re-injecting: the envelope sender
//! and recipient the MTA handed over, and the leading lines of the message.

use std::io::{self, Read};

/// The most of the message read before streaming starts, to find a
/// `Return-Path:` header or an mbox `From ` line.
pub const HEAD_LIMIT: usize = 64 * 1024;

/// The start of the message, read so far; stream it before the rest.
pub struct Head {
    /// Bytes read from the message.
    pub bytes: Vec<u8>,
}

impl Head {
    /// Reads up to the end of the header or [`HEAD_LIMIT`] bytes.
    pub fn read(input: &mut dyn Read) -> io::Result<Head> {
        let mut bytes = Vec::with_capacity(8192);
        let mut chunk = [0u8; 8192];
        while bytes.len() < HEAD_LIMIT {
            let n = input.read(&mut chunk)?;
            if n == 0 {
                break;
            }
            bytes.extend_from_slice(&chunk[..n]);
            if header_end(&bytes).is_some() {
                break;
            }
        }
        Ok(Head { bytes })
    }

    /// The envelope sender named by a leading mbox `From ` line or a
    /// `Return-Path:` header; `Some("")` for the null sender.
    pub fn sender(&self) -> Option<String> {
        let header = &self.bytes[..header_end(&self.bytes).unwrap_or(self.bytes.len())];
        let mut lines = header.split(|&b| b == b'\n');
        let first = lines.next()?;
        if let Some(rest) = first.strip_prefix(b"From ") {
            let sender = rest.split(|&b| b == b' ').next().unwrap_or_default();
            let sender = String::from_utf8_lossy(sender).trim().to_owned();
            return Some(if sender == "MAILER-DAEMON" || sender == "<>" {
                String::new()
            } else {
                sender
            });
        }
        std::iter::once(first).chain(lines).find_map(|line| {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            let (name, value) = line.split_at(line.iter().position(|&b| b == b':')?);
            if !name.eq_ignore_ascii_case(b"Return-Path") {
                return None;
            }
            let value = String::from_utf8_lossy(&value[1..]).trim().to_owned();
            Some(
                value
                    .trim_start_matches('<')
                    .trim_end_matches('>')
                    .to_owned(),
            )
        })
    }
}

/// Where the blank line ending the header starts, if it was read.
fn header_end(bytes: &[u8]) -> Option<usize> {
    if bytes.starts_with(b"\n") || bytes.starts_with(b"\r\n") {
        return Some(0);
    }
    memchr::memmem::find(bytes, b"\n\n")
        .or_else(|| memchr::memmem::find(bytes, b"\n\r\n"))
        .map(|i| i + 1)
}

/// The first of the environment variables `names` that is set.
pub fn env_first(names: &[&str]) -> Option<String> {
    names.iter().find_map(|n| std::env::var(n).ok())
}

/// The envelope sender: `--sender`, then the MTA's environment (`SENDER`, set
/// by Courier, Postfix local/pipe and qmail), then the message's leading lines.
pub fn sender(option: Option<&str>, head: &Head) -> Option<String> {
    option
        .map(str::to_owned)
        .or_else(|| env_first(&["SENDER"]))
        .map(|s| crate::srs::strip_angle_brackets(&s).to_owned())
        .or_else(|| head.sender())
}

/// The SRS recipient of a bounce: `--recipient`, then Postfix's
/// `ORIGINAL_RECIPIENT`, then `RECIPIENT` (Courier, Postfix, qmail), then
/// qmail's `LOCAL@HOST`.
pub fn recipient(option: Option<&str>) -> Option<String> {
    option
        .map(str::to_owned)
        .or_else(|| env_first(&["ORIGINAL_RECIPIENT", "RECIPIENT"]))
        .map(|r| crate::srs::strip_angle_brackets(&r).to_owned())
        .or_else(|| {
            Some(format!(
                "{}@{}",
                std::env::var("LOCAL").ok()?,
                std::env::var("HOST").ok()?
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(s: &[u8]) -> Head {
        Head::read(&mut &s[..]).unwrap()
    }

    #[test]
    fn sender_from_leading_lines() {
        assert_eq!(
            head(b"From alice@o.example Mon Nov 23 12:00:00 2026\nSubject: x\n\nbody")
                .sender()
                .as_deref(),
            Some("alice@o.example")
        );
        assert_eq!(
            head(b"From MAILER-DAEMON Mon Nov 23\n\n")
                .sender()
                .as_deref(),
            Some("")
        );
        assert_eq!(
            head(b"Received: x\r\nReturn-Path: <bob@o.example>\r\n\r\nReturn-Path: <no@x>\r\n")
                .sender()
                .as_deref(),
            Some("bob@o.example")
        );
        assert_eq!(head(b"return-path: <>\n\n").sender().as_deref(), Some(""));
        assert_eq!(
            head(b"Subject: x\n\nReturn-Path: <in@body>\n").sender(),
            None
        );
        assert_eq!(head(b"").sender(), None);
    }
}
