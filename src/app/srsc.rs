//! What `srsc` does: ask a running srsd to forward or reverse addresses.

use std::io::{self, BufRead, Write};
use std::time::Duration;

use crate::cli::srsc::{Cli, Request};
use crate::client::{Client, ClientError, Reply};
use crate::exit::Exit;
use crate::protocol::Direction;
use clap::Parser;

const PROG: &str = "srsc";

/// Runs `srsc` with `args` (the program name first) and gives its exit status.
pub fn main(args: Vec<std::ffi::OsString>) -> Exit {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => return crate::cli::report(&e),
    };
    let mut clients = Clients::new(&cli);
    match &cli.command {
        Some(Request::Forward { address, alias }) => {
            one(&mut clients, Direction::Forward, address, alias.as_deref())
        }
        Some(Request::Reverse { address }) => one(&mut clients, Direction::Reverse, address, None),
        None => batch(&mut clients),
    }
}

/// The client for each direction: one, sharing its connection, unless the
/// directions go to different places (tcp-table's two ports).
struct Clients {
    forward: Client,
    reverse: Option<Client>,
}

impl Clients {
    fn new(cli: &Cli) -> Clients {
        let client = |target| {
            Client::new(
                target,
                cli.client_protocol(),
                Duration::from_secs(cli.timeout.max(1)),
            )
        };
        let (forward, reverse) = (
            cli.target(Direction::Forward),
            cli.target(Direction::Reverse),
        );
        let reverse = (reverse != forward).then(|| client(reverse));
        Clients {
            forward: client(forward),
            reverse,
        }
    }

    fn get(&mut self, direction: Direction) -> &mut Client {
        match (direction, &mut self.reverse) {
            (Direction::Reverse, Some(c)) => c,
            _ => &mut self.forward,
        }
    }
}

/// Prints the answer for one request and says how it went.
fn answer(
    client: &mut Client,
    direction: Direction,
    address: &str,
    alias: Option<&str>,
) -> Result<bool, Exit> {
    // MTAs print addresses in angle brackets; the daemon wants them bare.
    let address = crate::srs::strip_angle_brackets(address);
    match client.lookup(direction, address, alias) {
        Ok(Reply::Found(a)) => {
            print_line(&a)?;
            Ok(true)
        }
        Ok(Reply::NotFound(reason)) => {
            let reason = reason.map(|r| format!(": {r}")).unwrap_or_default();
            eprintln!("{PROG}: {address}: not rewritten{reason}");
            Ok(false)
        }
        Err(e) => {
            eprintln!("{PROG}: {e}");
            Err(match e {
                ClientError::Unavailable { .. } => Exit::Unavailable,
                ClientError::Temporary(_) => Exit::TempFail,
                ClientError::Protocol(_) => Exit::Protocol,
                ClientError::Request(_) => Exit::Usage,
            })
        }
    }
}

/// Writes one answer line and flushes it, so a pipeline sees each answer
/// as it comes; a failed write ends the program.
fn print_line(line: &str) -> Result<(), Exit> {
    let mut out = io::stdout().lock();
    writeln!(out, "{line}")
        .and_then(|()| out.flush())
        .map_err(|e| Exit::write_failed(PROG, &e))
}

fn one(clients: &mut Clients, direction: Direction, address: &str, alias: Option<&str>) -> Exit {
    match answer(clients.get(direction), direction, address, alias) {
        Ok(true) => Exit::Ok,
        Ok(false) => Exit::NotFound,
        Err(e) => e,
    }
}

/// `forward ADDRESS [ALIAS]` / `reverse ADDRESS` lines from stdin, like Perl's srsc.
fn batch(clients: &mut Clients) -> Exit {
    let mut all_found = true;
    for line in io::stdin().lock().lines() {
        let Ok(line) = line else {
            eprintln!("{PROG}: standard input is not UTF-8 text");
            return Exit::DataErr;
        };
        let words: Vec<&str> = line.split_whitespace().collect();
        let request = match words.as_slice() {
            [] => continue,
            [cmd, address] if cmd.eq_ignore_ascii_case("reverse") => {
                (Direction::Reverse, *address, None)
            }
            [cmd, address] if cmd.eq_ignore_ascii_case("forward") => {
                (Direction::Forward, *address, None)
            }
            [cmd, address, alias] if cmd.eq_ignore_ascii_case("forward") => {
                (Direction::Forward, *address, Some(*alias))
            }
            _ => {
                eprintln!(
                    "{PROG}: {line:?}: expected 'forward ADDRESS [ALIAS]' or 'reverse ADDRESS'"
                );
                if let Err(e) = print_line("") {
                    return e;
                }
                all_found = false;
                continue;
            }
        };
        match answer(clients.get(request.0), request.0, request.1, request.2) {
            Ok(true) => {}
            Ok(false) => {
                if let Err(e) = print_line("") {
                    return e;
                }
                all_found = false;
            }
            Err(e) => return e,
        }
    }
    if all_found { Exit::Ok } else { Exit::NotFound }
}
