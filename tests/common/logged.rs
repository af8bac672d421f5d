//! A program run by a test with its standard error kept, line by line, so
//! the test can wait for a log line; killed on drop.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub struct Logged {
    pub child: Child,
    log: Arc<Mutex<Vec<String>>>,
}

impl Logged {
    /// Starts `cmd` with its standard error piped to the kept log.
    pub fn spawn(cmd: &mut Command) -> Logged {
        let mut child = cmd.stderr(Stdio::piped()).spawn().unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let sink = log.clone();
        let stderr = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                sink.lock().unwrap().push(line);
            }
        });
        Logged { child, log }
    }

    /// Waits (at most 20 s) for a log line containing `text`, and gives it.
    pub fn wait_for_log(&self, text: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(l) = self.lines().into_iter().find(|l| l.contains(text)) {
                return l;
            }
            assert!(
                Instant::now() < deadline,
                "no log line {text:?}; log: {:?}",
                self.lines()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The log so far.
    pub fn lines(&self) -> Vec<String> {
        match self.log.lock() {
            Ok(g) => g.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }
}

impl Drop for Logged {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
