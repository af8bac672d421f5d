//! The generated bash completions really complete: sourced in bash, their
//! function offers a subcommand and an option for a partial word.

use crate::common;

use std::process::Command;

/// What bash's completion for `program` offers after the words `line`.
fn complete(program: &str, line: &[&str]) -> Vec<String> {
    let Some(bash) = common::peer("bash", "bash") else {
        return Vec::new();
    };
    let file = format!("{}/completions/{program}.bash", env!("CARGO_MANIFEST_DIR"));
    let words = line
        .iter()
        .map(|w| format!("'{w}'"))
        .collect::<Vec<_>>()
        .join(" ");
    let script = format!(
        r#"source '{file}'
COMP_WORDS=({program} {words}); COMP_CWORD={cword}; COMP_LINE="${{COMP_WORDS[*]}}"; COMP_POINT=${{#COMP_LINE}}
func=$(complete -p {program} | sed -n 's/.*-F \([^ ]*\).*/\1/p')
"$func" {program} "${{COMP_WORDS[COMP_CWORD]}}" "${{COMP_WORDS[COMP_CWORD-1]}}"
printf '%s\n' "${{COMPREPLY[@]}}""#,
        cword = line.len()
    );
    let out = Command::new(bash).arg("-c").arg(script).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| l.trim().to_owned())
        .collect()
}

#[test]
fn bash_completes_subcommands_and_options() {
    if common::peer("bash", "bash").is_none() {
        return;
    }
    assert_eq!(complete("srs", &["forw"]), ["forward"]);
    assert_eq!(complete("srs", &["--hash-l"]), ["--hash-length"]);
    assert!(complete("srs", &["reverse", "--"]).contains(&"--max-age".to_owned()));
    assert_eq!(complete("srsd", &["--list"]), ["--listen"]);
    assert_eq!(complete("srsc", &["rev"]), ["reverse"]);
    assert_eq!(
        complete("srs-forwarder", &["--sendmail-o"]),
        ["--sendmail-option"]
    );
    assert_eq!(complete("srs-reverser", &["--drop"]), ["--drop-invalid"]);
}
