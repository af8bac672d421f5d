//! The Perl `srs` command-line parser never panics on arbitrary arguments.
#![no_main]

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;

use libfuzzer_sys::fuzz_target;
use mail_srs::cli::legacy;

fuzz_target!(|data: &[u8]| {
    let args: Vec<OsString> = data.split(|&b| b == 0).map(|a| OsString::from_vec(a.to_vec())).collect();
    let _ = legacy::detect(&args);
    let _ = legacy::parse(&args);
});
