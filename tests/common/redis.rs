//! A private redis-server (Debian package `redis-server`) on a loopback
//! port, without persistence, for the address database tests.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A private redis-server on a loopback port.
pub struct Redis {
    child: Child,
    /// Its port on 127.0.0.1.
    pub port: u16,
    dir: PathBuf,
}

impl Redis {
    /// A redis-server on a free loopback port. redis-server cannot take a
    /// listening socket, and `--port 0` turns TCP off, so a port is picked
    /// free and tried: if another process took it meanwhile, redis-server
    /// exits and the next one is tried.
    pub fn start_free(dir: &Path) -> Option<Redis> {
        let server = super::peer("redis-server", "redis-server")?;
        let mut last = String::new();
        for _ in 0..5 {
            match Redis::spawn(&server, dir, super::free_port()) {
                Ok(r) => return Some(r),
                Err(why) => last = why,
            }
        }
        panic!("redis-server did not start: {last}");
    }

    /// A redis-server on `port` (to restart one where it was).
    pub fn start(dir: &Path, port: u16) -> Option<Redis> {
        let server = super::peer("redis-server", "redis-server")?;
        Some(Redis::spawn(&server, dir, port).unwrap_or_else(|why| panic!("{why}")))
    }

    /// Starts redis-server on `port` and waits until it answers there as
    /// itself (its pid in `INFO server`), or has exited.
    fn spawn(server: &Path, dir: &Path, port: u16) -> Result<Redis, String> {
        let child = Command::new(server)
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .arg("--dir")
            .arg(dir)
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let mut r = Redis {
            child,
            port,
            dir: dir.to_owned(),
        };
        let ours = format!("process_id:{}", r.child.id());
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(Some(status)) = r.child.try_wait() {
                return Err(format!("redis-server on port {port} exited: {status}"));
            }
            if r.cli(&["INFO", "server"]).lines().any(|l| l.trim() == ours) {
                return Ok(r);
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "redis-server on port {port} did not answer in 20 s"
                ));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn cli(&self, args: &[&str]) -> String {
        Command::new("redis-cli")
            .args(["-p", &self.port.to_string()])
            .args(args)
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
            .unwrap_or_default()
    }

    pub fn stop(mut self) -> (u16, PathBuf) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        (self.port, self.dir.clone())
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
