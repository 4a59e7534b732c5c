//! Desktop notifications from the daemon: a command the user configures (`notify_command` in
//! `config.toml`, or `paperplane daemon -- CMD ARGS…`), run once for each new direct message.
//!
//! The command is an argv list, never a shell line. Placeholders inside any element are
//! replaced in one pass (a value that itself contains a placeholder stays as it is):
//! `{sender}` (`@handle`, or the sender's short fingerprint when no profile is known),
//! `{preview}` (the first [`PREVIEW_CHARS`] characters of the text, control characters other
//! than line breaks turned into spaces), `{kind}` (`message`, or `request` for a message from
//! someone the user does not follow), `{peer}` (the sender's full peer id) and `{id}` (the
//! message id). A message's text therefore always stays inside the one argument it was put
//! in, whatever quotes, `;` or `$(…)` it holds.
//!
//! Commands run in the background: at most [`MAX_RUNNING`] at once (further notifications
//! are skipped, and the skips are reported), each stopped after [`RUN_TIMEOUT`]; failures are
//! logged at `warn` and never stop the daemon.

use std::{
    process::Stdio,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
    time::Duration,
};

use paperplane::{event::Event, node::Node, profile::fingerprint, views::MessageView};
use tokio::{
    process::Command,
    sync::{OwnedSemaphorePermit, Semaphore},
    task::JoinHandle,
};

/// How many characters of a message `{preview}` holds.
pub const PREVIEW_CHARS: usize = 100;
/// How many notification commands may run at once.
pub const MAX_RUNNING: usize = 4;
/// How long a notification command may run before it is killed.
pub const RUN_TIMEOUT: Duration = Duration::from_secs(30);

/// What one notification says; each field fills the placeholder of the same name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notification {
    /// `@handle`, or the short fingerprint of an unknown sender.
    pub sender: String,
    /// The start of the text.
    pub preview: String,
    /// `message` or `request`.
    pub kind: &'static str,
    /// The sender's peer id.
    pub peer: String,
    /// The message id.
    pub id: String,
}

impl Notification {
    /// The notification for a received message; `handle` is the sender's, if known.
    pub fn for_message(message: &MessageView, request: bool, handle: Option<&str>) -> Self {
        Self {
            sender: match handle {
                Some(h) => format!("@{h}"),
                None => fingerprint(&message.from),
            },
            preview: preview(&message.text),
            kind: if request { "request" } else { "message" },
            peer: message.from.to_string(),
            id: message.id.to_hex(),
        }
    }

    /// The value of placeholder `name`, if it is one.
    fn value(&self, name: &str) -> Option<&str> {
        Some(match name {
            "sender" => &self.sender,
            "preview" => &self.preview,
            "kind" => self.kind,
            "peer" => &self.peer,
            "id" => &self.id,
            _ => return None,
        })
    }
}

/// The first [`PREVIEW_CHARS`] characters of `text`, with control characters other than line
/// breaks (NUL would not even fit in an argument) turned into spaces.
fn preview(text: &str) -> String {
    text.chars()
        .take(PREVIEW_CHARS)
        .map(|c| if c.is_control() && c != '\n' { ' ' } else { c })
        .collect()
}

/// `argv` with the placeholders of every element filled from `n`: one argument in, one
/// argument out.
pub fn render(argv: &[String], n: &Notification) -> Vec<String> {
    argv.iter().map(|arg| substitute(arg, n)).collect()
}

/// Replaces each `{name}` of a known placeholder in `template`, in one left-to-right pass;
/// anything else, unknown `{…}` included, is copied as it is.
fn substitute(template: &str, n: &Notification) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after
            .find('}')
            .and_then(|close| Some((n.value(&after[..close])?, close)))
        {
            Some((value, close)) => {
                out.push_str(value);
                rest = &after[close + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Runs the notification command for each new message of a node.
pub struct Notifier {
    argv: Arc<[String]>,
    running: Arc<Semaphore>,
    skipped: Arc<AtomicU64>,
}

impl Notifier {
    /// A notifier running `argv`; `None` when `argv` is empty (no notifications).
    pub fn new(argv: Vec<String>) -> Option<Self> {
        if argv.first().is_none_or(String::is_empty) {
            return None;
        }
        Some(Self {
            argv: argv.into(),
            running: Arc::new(Semaphore::new(MAX_RUNNING)),
            skipped: Arc::new(AtomicU64::new(0)),
        })
    }

    /// Listens to `node`'s events in a task of its own until the node stops.
    pub fn spawn(self, node: Node) -> JoinHandle<()> {
        let mut events = node.events();
        tokio::spawn(async move {
            loop {
                let event = tokio::select! {
                    biased;
                    () = node.stopped() => return,
                    event = events.next() => event,
                };
                let Some(event) = event else { return };
                if let Event::Message { message, request } = event {
                    // A muted chat's messages arrive quietly.
                    if node.is_muted(message.peer).unwrap_or(false) {
                        continue;
                    }
                    let handle = node.profile(Some(message.from)).ok().map(|p| p.handle);
                    self.notify(&Notification::for_message(
                        &message,
                        request,
                        handle.as_deref(),
                    ));
                }
            }
        })
    }

    /// Starts the command for `n` in the background, unless [`MAX_RUNNING`] already run.
    fn notify(&self, n: &Notification) {
        let Ok(permit) = Arc::clone(&self.running).try_acquire_owned() else {
            self.skipped.fetch_add(1, Ordering::Relaxed);
            return;
        };
        let skipped = self.skipped.swap(0, Ordering::Relaxed);
        if skipped > 0 {
            tracing::warn!(
                skipped,
                "notifications skipped while {MAX_RUNNING} notification commands were running"
            );
        }
        tokio::spawn(run(render(&self.argv, n), environment(n), permit));
    }
}

/// The notification's values as environment variables (`PAPERPLANE_SENDER`,
/// `PAPERPLANE_PREVIEW`, `PAPERPLANE_KIND`, `PAPERPLANE_PEER`, `PAPERPLANE_ID`): a script can
/// read the text there, where it can never be taken for an option.
pub fn environment(n: &Notification) -> Vec<(String, String)> {
    ["sender", "preview", "kind", "peer", "id"]
        .into_iter()
        .filter_map(|name| {
            n.value(name)
                .map(|v| (format!("PAPERPLANE_{}", name.to_uppercase()), v.to_owned()))
        })
        .collect()
}

/// Runs one command with no shell and no input, with `env` added to its environment,
/// holding `_permit` until it ends. Its error output goes to the daemon's (not through a
/// pipe, which a process the command leaves behind would hold open).
async fn run(argv: Vec<String>, env: Vec<(String, String)>, _permit: OwnedSemaphorePermit) {
    let Some((program, args)) = argv.split_first() else {
        return;
    };
    let child = Command::new(program)
        .args(args)
        .envs(env)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(error) => {
            tracing::warn!(%error, program, "cannot run the notification command");
            return;
        }
    };
    match tokio::time::timeout(RUN_TIMEOUT, child.wait()).await {
        Ok(Ok(status)) if status.success() => {}
        Ok(Ok(status)) => tracing::warn!(%status, program, "the notification command failed"),
        Ok(Err(error)) => tracing::warn!(%error, program, "waiting for the notification command"),
        Err(_) => {
            let _ = child.kill().await;
            tracing::warn!(
                program,
                "the notification command ran longer than {}s and was stopped",
                RUN_TIMEOUT.as_secs()
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use paperplane::{MessageId, PeerId};

    use super::*;

    fn peer() -> PeerId {
        paperplane_crypto::Identity::from_seed([9; 32]).peer_id()
    }

    fn message(text: &str) -> MessageView {
        let p = peer();
        MessageView {
            id: MessageId([0xab; 16]),
            peer: p,
            from: p,
            to: paperplane_crypto::Identity::from_seed([8; 32]).peer_id(),
            outgoing: false,
            kind: paperplane::MessageKind::Text,
            emoji_only: false,
            reply_to: None,
            shared_post: None,
            reactions: Vec::new(),
            edited_at: None,
            seen_at: None,
            text: text.into(),
            sent_at: 1,
            stored_at: 2,
            state: paperplane::MessageState::Received,
            error: None,
            photo: None,
            group: None,
            seen_by: Vec::new(),
        }
    }

    fn argv(args: &[&str]) -> Vec<String> {
        args.iter().map(|a| (*a).to_owned()).collect()
    }

    #[test]
    fn hostile_text_stays_one_literal_argument() {
        let text = r#"$(rm -rf /); echo "pwned" 'x' `id` && {sender} | > /tmp/f"#;
        let n = Notification::for_message(&message(text), false, Some("bob"));
        let out = render(
            &argv(&[
                "notify-send",
                "--app-name=paperplane",
                "{sender}",
                "{preview}",
            ]),
            &n,
        );
        assert_eq!(
            out,
            argv(&["notify-send", "--app-name=paperplane", "@bob", text]),
            "the text is one argument, unchanged (its own `{{sender}}` is not expanded)"
        );
    }

    #[test]
    fn placeholders_fill_inside_arguments_in_one_pass() {
        let n = Notification::for_message(&message("hi"), true, None);
        let out = render(
            &argv(&[
                "x",
                "{kind} from {sender}: {preview}",
                "{unknown} {",
                "{{kind}}",
                "{id}/{peer}",
                "}{",
            ]),
            &n,
        );
        let fp = fingerprint(&peer());
        assert_eq!(out[1], format!("request from {fp}: hi"));
        assert_eq!(out[2], "{unknown} {");
        assert_eq!(out[3], "{request}");
        assert_eq!(out[4], format!("{}/{}", "ab".repeat(16), peer()));
        assert_eq!(out[5], "}{");
    }

    #[test]
    fn previews_are_short_and_free_of_control_characters() {
        let long = "é".repeat(150);
        let n = Notification::for_message(&message(&long), false, Some("bob"));
        assert_eq!(n.preview.chars().count(), PREVIEW_CHARS);
        let n = Notification::for_message(&message("a\0b\x1b[31mc\nd"), false, None);
        assert_eq!(n.preview, "a b [31mc\nd");
        assert_eq!(n.kind, "message");
    }

    #[test]
    fn an_empty_command_means_no_notifier() {
        assert!(Notifier::new(Vec::new()).is_none());
        assert!(Notifier::new(argv(&[""])).is_none());
        assert!(Notifier::new(argv(&["true"])).is_some());
    }

    #[tokio::test]
    async fn runs_are_capped_and_failures_release_their_slot() {
        let notifier = Notifier::new(argv(&["sleep", "30"])).expect("notifier");
        let n = Notification::for_message(&message("hi"), false, None);
        for _ in 0..MAX_RUNNING + 2 {
            notifier.notify(&n);
        }
        assert_eq!(notifier.running.available_permits(), 0);
        assert_eq!(notifier.skipped.load(Ordering::Relaxed), 2);

        let missing = Notifier::new(argv(&["/nonexistent/notify"])).expect("notifier");
        let permit = Arc::clone(&missing.running)
            .try_acquire_owned()
            .expect("a slot");
        run(render(&missing.argv, &n), Vec::new(), permit).await;
        let failing = Notifier::new(argv(&["false"])).expect("notifier");
        let permit = Arc::clone(&failing.running)
            .try_acquire_owned()
            .expect("a slot");
        run(render(&failing.argv, &n), Vec::new(), permit).await;
        assert_eq!(missing.running.available_permits(), MAX_RUNNING);
        assert_eq!(failing.running.available_permits(), MAX_RUNNING);
    }

    #[tokio::test]
    async fn the_command_runs_without_a_shell() {
        let dir = tempfile::tempdir().expect("tempdir");
        let out = dir.path().join("args");
        let pwned = dir.path().join("pwned");
        let text = format!("$(touch {}); \"q\" 'x'", pwned.display());
        let n = Notification::for_message(&message(&text), false, Some("bob"));
        // `sh -c` with the values as positional parameters: the safe way to use a shell.
        let notifier = Notifier::new(argv(&[
            "sh",
            "-c",
            "printf '%s\\n' \"$@\" > \"$0.tmp\" && mv \"$0.tmp\" \"$0\"",
            out.to_str().expect("utf-8 path"),
            "{sender}",
            "{preview}",
        ]))
        .expect("notifier");
        notifier.notify(&n);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while !out.exists() {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the command never ran"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let written = std::fs::read_to_string(&out).expect("read");
        assert_eq!(written, format!("@bob\n{text}\n"));
        assert!(!pwned.exists(), "the text was executed");
    }

    /// A script that parses its arguments the way most commands do: anything that starts
    /// with `-` before `--` is an option. It writes what it saw, and the preview it finds in
    /// its environment.
    const OPTION_PARSER: &str = r#"
out="$0"
: > "$out.tmp"
while [ $# -gt 0 ]; do
  case "$1" in
    --) shift; break ;;
    -*) printf 'option %s\n' "$1" >> "$out.tmp"; shift ;;
    *) break ;;
  esac
done
for a in "$@"; do printf 'positional %s\n' "$a" >> "$out.tmp"; done
printf 'env %s\n' "$PAPERPLANE_PREVIEW" >> "$out.tmp"
mv "$out.tmp" "$out"
"#;

    async fn notified(template: &[&str], text: &str) -> String {
        let dir = tempfile::tempdir().expect("tempdir");
        let out = dir.path().join("seen");
        let mut full = vec!["sh", "-c", OPTION_PARSER, out.to_str().expect("utf-8 path")];
        full.extend_from_slice(template);
        let n = Notification::for_message(&message(text), false, Some("bob"));
        Notifier::new(argv(&full)).expect("notifier").notify(&n);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while !out.exists() {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the command never ran"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        std::fs::read_to_string(&out).expect("read")
    }

    #[tokio::test]
    async fn a_text_that_looks_like_an_option_stays_a_positional_after_the_double_dash() {
        for text in ["--foo", "-rf /", "--"] {
            // As the README writes it: `--` before the placeholders.
            let seen = notified(&["--urgency=low", "--", "{sender}", "{preview}"], text).await;
            assert_eq!(
                seen,
                format!("option --urgency=low\npositional @bob\npositional {text}\nenv {text}\n")
            );
        }
        // Without `--` the same text is taken for an option: why the README puts it there.
        let seen = notified(&["{preview}"], "--foo").await;
        assert!(seen.starts_with("option --foo\n"), "{seen}");
    }
}
