//! A private Postfix instance on 127.0.0.1 (Debian package `postfix`; needs
//! root, as Postfix's master does), with its own configuration and queue,
//! relaying to a given port: for the Postfix and srsrelay tests.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// A private Postfix instance.
pub struct Postfix {
    pub dir: PathBuf,
    pub smtpd: u16,
}

impl Postfix {
    pub fn start(dir: &Path, sink: u16, maps: &str) -> Postfix {
        Postfix::start_with(dir, sink, maps, "")
    }

    /// Like [`Postfix::start`], with `services` (lines) added to master.cf.
    pub fn start_with(dir: &Path, sink: u16, maps: &str, services: &str) -> Postfix {
        let smtpd = super::free_port();
        let cfg = dir.join("cfg");
        std::fs::create_dir_all(&cfg).unwrap();
        let d = dir.display();
        let base = format!(
            "compatibility_level = 3.6
queue_directory = {d}/queue
data_directory = {d}/data
myhostname = fwd.example
mydomain = fwd.example
myorigin = fwd.example
mydestination = fwd.example
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
relayhost = [127.0.0.1]:{sink}
smtp_dns_support_level = disabled
smtp_tls_security_level = none
smtputf8_enable = no
biff = no
alias_maps =
alias_database =
local_recipient_maps = proxy:unix:passwd.byname
virtual_alias_maps = texthash:{d}/cfg/virtual
maillog_file = {d}/maillog
maillog_file_prefixes = {d}
mail_spool_directory = {d}/mail"
        );
        // A parameter `maps` sets replaces the base line: a parameter set
        // twice makes every Postfix process log a warning as it starts.
        let key = |line: &str| line.split('=').next().unwrap_or_default().trim().to_owned();
        let set: Vec<String> = maps.lines().filter(|l| l.contains('=')).map(key).collect();
        let mut main: Vec<&str> = base.lines().filter(|l| !set.contains(&key(l))).collect();
        main.push(maps);
        std::fs::write(cfg.join("main.cf"), main.join("\n") + "\n").unwrap();
        let mut master = format!("127.0.0.1:{smtpd} inet n - n - - smtpd\n");
        for (service, kind, private, unpriv, wakeup, limit, command) in [
            ("pickup", "unix", "n", "-", "60", "1", "pickup"),
            ("cleanup", "unix", "n", "-", "-", "0", "cleanup"),
            ("qmgr", "unix", "n", "-", "300", "1", "qmgr"),
            ("rewrite", "unix", "-", "-", "-", "-", "trivial-rewrite"),
            ("bounce", "unix", "-", "-", "-", "0", "bounce"),
            ("defer", "unix", "-", "-", "-", "0", "bounce"),
            ("trace", "unix", "-", "-", "-", "0", "bounce"),
            ("verify", "unix", "-", "-", "-", "1", "verify"),
            ("flush", "unix", "n", "-", "1000?", "0", "flush"),
            ("proxymap", "unix", "-", "-", "-", "-", "proxymap"),
            ("smtp", "unix", "-", "-", "-", "-", "smtp"),
            ("relay", "unix", "-", "-", "-", "-", "smtp"),
            ("showq", "unix", "n", "-", "-", "-", "showq"),
            ("error", "unix", "-", "-", "-", "-", "error"),
            ("retry", "unix", "-", "-", "-", "-", "error"),
            ("discard", "unix", "-", "-", "-", "-", "discard"),
            ("local", "unix", "-", "n", "-", "-", "local"),
            ("anvil", "unix", "-", "-", "-", "1", "anvil"),
            ("scache", "unix", "-", "-", "-", "1", "scache"),
            ("postlog", "unix-dgram", "n", "-", "-", "1", "postlogd"),
        ] {
            master.push_str(&format!(
                "{service} {kind} {private} {unpriv} n {wakeup} {limit} {command}\n"
            ));
        }
        master.push_str(services);
        std::fs::write(cfg.join("master.cf"), master).unwrap();
        std::fs::write(cfg.join("virtual"), "list@fwd.example dest@dest.example\n").unwrap();
        std::fs::create_dir_all(dir.join("queue")).unwrap();
        // Local mailboxes (mail_spool_directory below), written by the
        // recipients' users.
        std::fs::create_dir_all(dir.join("mail")).unwrap();
        std::fs::set_permissions(dir.join("mail"), std::fs::Permissions::from_mode(0o1777))
            .unwrap();
        std::fs::create_dir_all(dir.join("data")).unwrap();
        if let Ok(Some(user)) = nix::unistd::User::from_name("postfix") {
            std::os::unix::fs::chown(
                dir.join("data"),
                Some(user.uid.as_raw()),
                Some(user.gid.as_raw()),
            )
            .unwrap();
        }
        let p = Postfix {
            dir: dir.to_owned(),
            smtpd,
        };
        let check = p.postfix("check");
        assert!(
            check.status.success(),
            "postfix check: {}",
            String::from_utf8_lossy(&check.stderr)
        );
        let out = p.postfix("start");
        assert!(
            out.status.success(),
            "postfix start: {}{}",
            String::from_utf8_lossy(&out.stderr),
            p.log()
        );
        super::wait_until("Postfix's smtpd to listen", Duration::from_secs(30), || {
            TcpStream::connect(("127.0.0.1", smtpd)).is_ok()
        });
        p
    }

    /// `postfix -c DIR/cfg COMMAND`, which must end within 60 s.
    pub fn postfix(&self, command: &str) -> std::process::Output {
        super::output_within(&mut self.command(command), Duration::from_secs(60))
    }

    fn command(&self, command: &str) -> Command {
        let mut cmd = Command::new("postfix");
        cmd.arg("-c").arg(self.dir.join("cfg")).arg(command);
        cmd
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("maillog")).unwrap_or_default()
    }

    /// Sends one message over SMTP; returns the reply code of each RCPT.
    pub fn send(&self, from: &str, to: &[&str], token: &str) -> Vec<u16> {
        let (codes, data) = self.transaction(from, to, Some(token));
        if let Some(code) = data {
            assert_eq!(code, 250, "DATA; log:\n{}", self.log());
        }
        codes
    }

    /// One SMTP transaction: the MAIL reply must be 250; gives each RCPT's
    /// reply code, and the code that ends DATA (at the DATA command itself
    /// if it refuses) when `token` asks for a message and a recipient took.
    pub fn transaction(
        &self,
        from: &str,
        to: &[&str],
        token: Option<&str>,
    ) -> (Vec<u16>, Option<u16>) {
        self.transaction_with(from, to, token, "")
    }

    /// Like `transaction`, with `headers` (CRLF-ended lines) before Subject.
    pub fn transaction_with(
        &self,
        from: &str,
        to: &[&str],
        token: Option<&str>,
        headers: &str,
    ) -> (Vec<u16>, Option<u16>) {
        let text = token.map(|t| format!("{headers}Subject: {t}\r\n\r\n{t}\r\n"));
        self.transaction_text(from, to, text.as_deref())
    }

    /// Waits (at most 60 s) for the mailbox of local user `user` to hold
    /// `token`, and gives the mailbox.
    pub fn wait_for_mailbox(&self, user: &str, token: &str) -> String {
        let mut mailbox = String::new();
        super::wait_until_or(
            &format!("{token} in {user}'s mailbox"),
            Duration::from_secs(60),
            || {
                mailbox =
                    std::fs::read_to_string(self.dir.join("mail").join(user)).unwrap_or_default();
                mailbox.contains(token)
            },
            || format!("log:\n{}", self.log()),
        );
        mailbox
    }

    /// Waits (at most 60 s) for a log line holding every one of `parts`.
    pub fn wait_for_log(&self, parts: &[&str]) -> String {
        let mut line = None;
        super::wait_until_or(
            &format!("a log line with {parts:?}"),
            Duration::from_secs(60),
            || {
                line = self
                    .log()
                    .lines()
                    .find(|l| parts.iter().all(|p| l.contains(p)))
                    .map(str::to_owned);
                line.is_some()
            },
            || format!("log:\n{}", self.log()),
        );
        line.unwrap_or_default()
    }

    /// One SMTP transaction whose message is `text` (CRLF-ended lines,
    /// without the final dot), as `transaction` gives its reply codes.
    pub fn transaction_text(
        &self,
        from: &str,
        to: &[&str],
        text: Option<&str>,
    ) -> (Vec<u16>, Option<u16>) {
        let conn = TcpStream::connect(("127.0.0.1", self.smtpd)).unwrap();
        conn.set_read_timeout(Some(Duration::from_secs(60)))
            .unwrap();
        let mut out = conn.try_clone().unwrap();
        let mut replies = BufReader::new(conn);
        let mut reply = || {
            let mut code = 0;
            loop {
                let mut l = String::new();
                replies.read_line(&mut l).unwrap();
                code = l.get(..3).and_then(|c| c.parse().ok()).unwrap_or(code);
                if l.as_bytes().get(3) != Some(&b'-') {
                    return code;
                }
            }
        };
        assert_eq!(reply(), 220);
        out.write_all(b"EHLO client.test\r\n").unwrap();
        assert_eq!(reply(), 250);
        out.write_all(format!("MAIL FROM:<{from}>\r\n").as_bytes())
            .unwrap();
        assert_eq!(reply(), 250, "MAIL FROM:<{from}>; log:\n{}", self.log());
        let codes: Vec<u16> = to
            .iter()
            .map(|r| {
                out.write_all(format!("RCPT TO:<{r}>\r\n").as_bytes())
                    .unwrap();
                reply()
            })
            .collect();
        let mut data = None;
        if let (Some(text), true) = (text, codes.contains(&250)) {
            out.write_all(b"DATA\r\n").unwrap();
            let code = reply();
            data = Some(code);
            if code == 354 {
                out.write_all(format!("{text}.\r\n").as_bytes()).unwrap();
                data = Some(reply());
            }
        }
        out.write_all(b"QUIT\r\n").unwrap();
        (codes, data)
    }

    /// The reply to MAIL FROM (after EHLO), then QUIT.
    pub fn mail_reply(&self, from: &str) -> u16 {
        let conn = TcpStream::connect(("127.0.0.1", self.smtpd)).unwrap();
        conn.set_read_timeout(Some(Duration::from_secs(60)))
            .unwrap();
        let mut out = conn.try_clone().unwrap();
        let mut replies = BufReader::new(conn);
        let mut last = String::new();
        let mut reply = || loop {
            last.clear();
            replies.read_line(&mut last).unwrap();
            if last.as_bytes().get(3) != Some(&b'-') {
                return last.get(..3).and_then(|c| c.parse().ok()).unwrap_or(0);
            }
        };
        reply();
        out.write_all(b"EHLO client.test\r\n").unwrap();
        reply();
        out.write_all(format!("MAIL FROM:<{from}>\r\n").as_bytes())
            .unwrap();
        let code = reply();
        out.write_all(b"QUIT\r\n").unwrap();
        code
    }
}

impl Drop for Postfix {
    fn drop(&mut self) {
        // Never a panic here: this may run while a failed test unwinds.
        let _ = super::ended_within(&mut self.command("abort"), Duration::from_secs(60));
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A fresh directory for a private Postfix and a keys file in it, or `None`
/// (after saying why) when Postfix or root is missing.
pub fn private_dir(name: &str) -> Option<(PathBuf, PathBuf)> {
    super::peer("postfix", "postfix")?;
    if !nix::unistd::geteuid().is_root() {
        let msg = "the Postfix test needs root to run a private Postfix master";
        super::skip(msg);
        return None;
    }
    let dir = PathBuf::from(format!(
        "/tmp/mail-srs-postfix-{name}-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    // Postfix's unprivileged daemons must reach the socket.
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let keys = dir.join("keys");
    std::fs::write(&keys, format!("postfix-test-secret-{name}\n")).unwrap();
    std::fs::set_permissions(&keys, std::fs::Permissions::from_mode(0o600)).unwrap();
    Some((dir, keys))
}
