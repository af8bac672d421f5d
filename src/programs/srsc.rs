//! What `srsc` does: ask a running srsd to forward or reverse addresses.

use std::io::{self, BufRead, Write};
use std::time::Duration;

use crate::cli::srsc::{Request, SrscCli};
use crate::client::{Client, ClientError, Reply, Target};
use crate::engine::Direction;
use crate::exit::Exit;
use clap::Parser;

const PROG: &str = "srsc";

/// Runs `srsc` with `args` (the program name first) and gives its exit status.
pub fn main(args: Vec<std::ffi::OsString>) -> Exit {
    let cli = match SrscCli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => return crate::cli::report(&e),
    };
    if cli.command == Some(Request::Stats) {
        return stats(&cli);
    }
    let mut clients = Clients::new(&cli);
    match &cli.command {
        Some(Request::Forward { address, alias }) => one(
            &mut clients,
            Direction::Forward,
            address,
            alias.as_deref(),
            cli.json,
        ),
        Some(Request::Reverse { address }) => {
            one(&mut clients, Direction::Reverse, address, None, cli.json)
        }
        Some(Request::Stats) | None => batch(&mut clients, cli.json),
    }
}

/// `srsc stats`: scrapes the metrics listener and prints the figures.
fn stats(cli: &SrscCli) -> Exit {
    let target = match (&cli.connect, &cli.socket) {
        (Some(addr), _) => Target::Tcp(*addr),
        (None, Some(path)) => Target::Unix(path.clone()),
        (None, None) => {
            eprintln!(
                "{PROG}: stats needs srsd's metrics listener: -c HOST:PORT or -s PATH (srsd --listen metrics=...)"
            );
            return Exit::Usage;
        }
    };
    let mut client = Client::new(
        target,
        cli.client_protocol(),
        Duration::from_secs(cli.timeout.max(1)),
    );
    let text = match client.scrape() {
        Ok(text) => text,
        Err(e) => {
            eprintln!("{PROG}: {e}");
            return client_exit(&e);
        }
    };
    let samples = match crate::metrics::parse(&text) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{PROG}: the metrics listener's reply: {e}");
            return Exit::Protocol;
        }
    };
    let shown = if cli.json {
        let objects: Vec<serde_json::Value> = samples
            .iter()
            .map(|s| {
                let labels: serde_json::Map<String, serde_json::Value> = s
                    .labels
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone().into()))
                    .collect();
                serde_json::json!({"name": s.name, "labels": labels, "value": s.value})
            })
            .collect();
        objects.iter().map(|o| format!("{o}\n")).collect::<String>()
    } else {
        crate::metrics::summary(&samples)
    };
    let mut out = io::stdout().lock();
    match out.write_all(shown.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Exit::Ok,
        Err(e) => Exit::write_failed(PROG, &e),
    }
}

fn client_exit(e: &ClientError) -> Exit {
    match e {
        ClientError::Unavailable { .. } => Exit::Unavailable,
        ClientError::Temporary(_) => Exit::TempFail,
        ClientError::Protocol(_) => Exit::Protocol,
        ClientError::Request(_) => Exit::Usage,
    }
}

/// The client for each direction: one, sharing its connection, unless the
/// directions go to different places (tcp-table's two ports).
struct Clients {
    forward: Client,
    reverse: Option<Client>,
}

impl Clients {
    fn new(cli: &SrscCli) -> Clients {
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
    json: bool,
) -> Result<bool, Exit> {
    // MTAs print addresses in angle brackets; the daemon wants them bare.
    let bare = crate::srs::strip_angle_brackets(address);
    let reply = client.lookup(direction, bare, alias).map_err(|e| {
        eprintln!("{PROG}: {e}");
        client_exit(&e)
    })?;
    if json {
        let mut object = serde_json::json!({
            "input": address,
            "direction": direction.name(),
        });
        match &reply {
            Reply::Found(a) => {
                object["status"] = "rewritten".into();
                object["output"] = a.as_str().into();
            }
            Reply::NotFound(reason) => {
                object["status"] = "not_found".into();
                object["reason"] = reason.as_deref().into();
            }
        }
        print_line(&object.to_string())?;
        return Ok(matches!(reply, Reply::Found(_)));
    }
    match reply {
        Reply::Found(a) => {
            print_line(&a)?;
            Ok(true)
        }
        Reply::NotFound(reason) => {
            let reason = reason.map(|r| format!(": {r}")).unwrap_or_default();
            eprintln!("{PROG}: {bare}: not rewritten{reason}");
            Ok(false)
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

fn one(
    clients: &mut Clients,
    direction: Direction,
    address: &str,
    alias: Option<&str>,
    json: bool,
) -> Exit {
    match answer(clients.get(direction), direction, address, alias, json) {
        Ok(true) => Exit::Ok,
        Ok(false) => Exit::NotFound,
        Err(e) => e,
    }
}

/// `forward ADDRESS [ALIAS]` / `reverse ADDRESS` lines from stdin, like Perl's srsc.
fn batch(clients: &mut Clients, json: bool) -> Exit {
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
                let error = "expected 'forward ADDRESS [ALIAS]' or 'reverse ADDRESS'";
                let shown = if json {
                    serde_json::json!({"input": line, "status": "refused", "error": error})
                        .to_string()
                } else {
                    eprintln!("{PROG}: {line:?}: {error}");
                    String::new()
                };
                if let Err(e) = print_line(&shown) {
                    return e;
                }
                all_found = false;
                continue;
            }
        };
        match answer(
            clients.get(request.0),
            request.0,
            request.1,
            request.2,
            json,
        ) {
            Ok(true) => {}
            Ok(false) if json => all_found = false,
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
