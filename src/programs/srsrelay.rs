//! What `srsrelay` does: its help and version, then srsd's engine with the
//! command line of libsrs2's srsrelay turned into srsd's options.

use std::ffi::OsString;
use std::io::Write;

use crate::cli::srsrelay;
use crate::exit::Exit;

/// Runs `srsrelay` with `args` (the program name first).
pub fn main(args: Vec<OsString>) -> Exit {
    let asked = |flags: &[&str]| {
        args.iter()
            .skip(1)
            .take_while(|a| *a != "--")
            .any(|a| flags.iter().any(|f| a == f))
    };
    let say = |text: String| {
        let mut out = std::io::stdout().lock();
        match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
            Ok(()) => Exit::Ok,
            Err(e) => Exit::write_failed("srsrelay", &e),
        }
    };
    if asked(&["-V", "--version", "-v"]) {
        return say(format!("srsrelay {}\n", env!("CARGO_PKG_VERSION")));
    }
    if asked(&["-h", "--help"]) {
        use clap::CommandFactory;
        let options = crate::cli::srsd::SrsdCli::command()
            .bin_name("srsrelay")
            .about(None::<&str>)
            .override_usage(&srsrelay::USAGE["usage: ".len()..])
            .render_help();
        return say(format!("{}\n{options}", srsrelay::HELP));
    }
    match srsrelay::translate(&args) {
        Ok(srsd_args) => super::srsd::main(srsd_args, "srsrelay"),
        Err(e) => {
            eprintln!("srsrelay: {e}\n{}", srsrelay::USAGE);
            Exit::Usage
        }
    }
}
