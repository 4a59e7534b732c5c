//! `paperplane open`: the web app in the user's browser, signed in by a one-time link.

use std::{
    process::{Command, Stdio},
    thread,
    time::{Duration, Instant},
};

use super::Output;
use crate::client::Client;

/// How long a browser command may take to fail before it counts as started.
const START_WAIT: Duration = Duration::from_secs(3);

/// Gets a one-time link from the daemon and opens it, or prints it (with `print`, in JSON
/// mode, or when no browser starts).
pub(super) async fn run(client: &Client, print: bool, out: Output) -> anyhow::Result<()> {
    let link = client.web_link().await?;
    if print || out.json {
        return out.value(&link, || format!("{}\n", link.url));
    }
    let url = link.url.clone();
    let opened = tokio::task::spawn_blocking(move || open_in_browser(&url)).await?;
    match opened {
        Some(how) => {
            eprintln!("opened the web app with {how}");
            Ok(())
        }
        None => out.value(&link, || {
            format!(
                "no browser could be started (set $BROWSER); open this link within {} s \
                 (it works once):\n{}\n",
                link.expires_in_seconds, link.url
            )
        }),
    }
}

/// Tries each browser command in turn; returns the name of the one that started.
fn open_in_browser(url: &str) -> Option<String> {
    browser_commands(std::env::var("BROWSER").ok().as_deref(), url)
        .into_iter()
        .find_map(|argv| start(&argv).then(|| argv[0].clone()))
}

/// The commands to try for `url`: each of `$BROWSER`'s colon-separated commands (a `%s` in
/// one is replaced by the link, else the link is its last argument), then the desktop's
/// opener.
fn browser_commands(browser: Option<&str>, url: &str) -> Vec<Vec<String>> {
    let mut commands: Vec<Vec<String>> = browser
        .unwrap_or_default()
        .split(':')
        .filter(|c| !c.trim().is_empty())
        .map(|command| {
            let mut argv: Vec<String> = command.split_whitespace().map(String::from).collect();
            if command.contains("%s") {
                for arg in &mut argv {
                    *arg = arg.replace("%s", url);
                }
            } else {
                argv.push(url.to_owned());
            }
            argv
        })
        .collect();
    let opener: &[&str] = if cfg!(target_os = "macos") {
        &["open"]
    } else if cfg!(windows) {
        &["explorer"]
    } else {
        &["xdg-open"]
    };
    commands.push(
        opener
            .iter()
            .map(|s| s.to_string())
            .chain([url.to_owned()])
            .collect(),
    );
    commands
}

/// Starts `argv`; true unless it cannot be run or exits with a failure within [`START_WAIT`]
/// (a browser that stays running has started).
fn start(argv: &[String]) -> bool {
    let Some((program, args)) = argv.split_first() else {
        return false;
    };
    let Ok(mut child) = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
    else {
        return false;
    };
    let started = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return status.success(),
            Ok(None) if started.elapsed() >= START_WAIT => return true,
            Ok(None) => thread::sleep(Duration::from_millis(50)),
            Err(_) => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn browser_commands_follow_the_browser_convention() {
        let url = "http://127.0.0.1:7878/signin?code=abc";
        let commands = browser_commands(Some("firefox:chromium --new-window %s::"), url);
        assert_eq!(commands.len(), 3);
        assert_eq!(commands[0], ["firefox", url]);
        assert_eq!(commands[1], ["chromium", "--new-window", url]);
        assert_eq!(commands[2].last().map(String::as_str), Some(url));
        assert_eq!(browser_commands(None, url).len(), 1, "only the opener");
    }

    #[test]
    fn a_browser_that_fails_or_is_missing_does_not_count() {
        assert!(!start(&["/nonexistent/browser".to_owned()]));
        assert!(!start(&["false".to_owned()]));
        assert!(start(&["true".to_owned()]));
        assert!(!start(&[]));
    }
}
