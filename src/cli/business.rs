//! The business and conversation tools' commands: quick replies, away, FAQ, chat labels,
//! muting and search. Each is a thin call of the daemon's API and a rendering of its answer.

use anyhow::bail;
use clap::Subcommand;
use paperplane::{views::MessageView, AwayStatus, ChatMarks, FaqView};

use super::{format, Output};
use crate::client::Client;

/// `paperplane reply-template …`.
#[derive(Debug, Subcommand)]
pub enum ReplyTemplateCommand {
    /// Save a quick reply (replacing one of that name); emoji shortcodes like :wave: expand.
    Add {
        /// 1–32 of a-z 0-9 - _
        name: String,
        /// The text (4,096 bytes at most once expanded); it may start with `-`.
        #[arg(allow_hyphen_values = true)]
        text: String,
    },
    /// The saved quick replies.
    List,
    /// Remove a quick reply.
    Remove {
        /// Its name.
        name: String,
    },
}

/// `paperplane away …`.
#[derive(Debug, Subcommand)]
pub enum AwayCommand {
    /// Go away: the first new message of each conversation gets TEXT back, once a day per
    /// conversation (business accounts only).
    On {
        /// The away text; default: the last one given.
        #[arg(allow_hyphen_values = true)]
        text: Option<String>,
    },
    /// Come back: no more automatic answers.
    Off,
    /// Whether you are away, and the away text.
    Status,
}

/// `paperplane faq …`.
#[derive(Debug, Subcommand)]
pub enum FaqCommand {
    /// Add a question and its answer to your profile's FAQ (business accounts, 10 at most).
    Add {
        /// The question (200 characters at most).
        question: String,
        /// The answer (1,000 characters at most).
        #[arg(allow_hyphen_values = true)]
        answer: String,
    },
    /// Remove the Nth question (as `faq show` numbers them).
    Remove {
        /// Its number, from 1.
        number: usize,
    },
    /// Remove every question.
    Clear,
    /// Show your FAQ, or a peer's.
    Show {
        /// Peer id or @handle; default: yours.
        peer: Option<String>,
    },
}

/// The business commands, from the command line.
#[derive(Debug)]
pub enum BusinessCommand {
    /// `reply-template …`.
    Template(ReplyTemplateCommand),
    /// `away …`.
    Away(AwayCommand),
    /// `faq …`.
    Faq(FaqCommand),
    /// `label` / `unlabel`.
    Label {
        /// The chat.
        peer: String,
        /// The label.
        name: String,
        /// Add or remove.
        on: bool,
    },
    /// `mute` / `unmute`.
    Mute {
        /// The chat.
        peer: String,
        /// Mute or unmute.
        muted: bool,
    },
    /// `search`.
    Search {
        /// The text.
        text: String,
        /// How many at most.
        limit: Option<usize>,
    },
}

/// Runs one business command.
pub(super) async fn run(
    client: &Client,
    command: BusinessCommand,
    out: Output,
    now: u64,
) -> anyhow::Result<()> {
    match command {
        BusinessCommand::Template(ReplyTemplateCommand::Add { name, text }) => {
            let r = client.save_quick_reply(&name, &text).await?;
            out.value(&r, || format!("saved quick reply {}: {}\n", r.name, r.text))
        }
        BusinessCommand::Template(ReplyTemplateCommand::List) => {
            let list = client.quick_replies().await?;
            out.value(&list, || {
                if list.is_empty() {
                    return "no quick replies yet: `paperplane reply-template add NAME TEXT`\n"
                        .into();
                }
                list.iter()
                    .map(|r| format!("{:<16} {}\n", r.name, format::one_line(&r.text, 60)))
                    .collect()
            })
        }
        BusinessCommand::Template(ReplyTemplateCommand::Remove { name }) => {
            let r = client.remove_quick_reply(&name).await?;
            out.value(&r, || format!("removed quick reply {}\n", r.name))
        }
        BusinessCommand::Away(AwayCommand::On { text }) => {
            let s = client.set_away(true, text.as_deref()).await?;
            out.value(&s, || away(&s))
        }
        BusinessCommand::Away(AwayCommand::Off) => {
            let s = client.set_away(false, None).await?;
            out.value(&s, || away(&s))
        }
        BusinessCommand::Away(AwayCommand::Status) => {
            let s = client.away().await?;
            out.value(&s, || away(&s))
        }
        BusinessCommand::Faq(FaqCommand::Show { peer }) => {
            let p = client.profile(peer.as_deref()).await?;
            out.value(&p.faq, || {
                if p.faq.is_empty() {
                    format!("@{} publishes no FAQ\n", p.handle)
                } else {
                    faq(&p.faq)
                }
            })
        }
        BusinessCommand::Faq(change) => {
            let mut list = client.profile(None).await?.faq;
            match change {
                FaqCommand::Add { question, answer } => list.push(FaqView { question, answer }),
                FaqCommand::Remove { number } => {
                    if number == 0 || number > list.len() {
                        bail!(
                            "there is no question {number}: your FAQ has {} (see `paperplane faq show`)",
                            list.len()
                        );
                    }
                    list.remove(number - 1);
                }
                FaqCommand::Clear => list.clear(),
                FaqCommand::Show { .. } => unreachable!("handled above"),
            }
            let p = client.set_faq(list).await?;
            out.value(&p.faq, || {
                if p.faq.is_empty() {
                    "your FAQ is empty\n".into()
                } else {
                    faq(&p.faq)
                }
            })
        }
        BusinessCommand::Label { peer, name, on } => {
            let m = client.label(&peer, &name, on).await?;
            out.value(&m, || marks(&m))
        }
        BusinessCommand::Mute { peer, muted } => {
            let m = client.mute(&peer, muted).await?;
            out.value(&m, || marks(&m))
        }
        BusinessCommand::Search { text, limit } => {
            let hits = client.search(&text, limit).await?;
            out.value(&hits, || search(&hits, now))
        }
    }
}

fn away(s: &AwayStatus) -> String {
    match (s.away, &s.text) {
        (true, Some(t)) => format!("away; new conversations get: {t}\n"),
        (true, None) => "away\n".into(),
        (false, _) => "not away\n".into(),
    }
}

/// A FAQ, numbered from 1.
pub fn faq(entries: &[FaqView]) -> String {
    entries
        .iter()
        .enumerate()
        .map(|(i, e)| format!("{}. {}\n   {}\n", i + 1, e.question, e.answer))
        .collect()
}

fn marks(m: &ChatMarks) -> String {
    let labels = if m.labels.is_empty() {
        "no labels".to_owned()
    } else {
        format!("labels: {}", m.labels.join(", "))
    };
    let muted = if m.muted { "muted" } else { "not muted" };
    format!("{}: {labels}; {muted}\n", m.peer)
}

fn search(hits: &[MessageView], now: u64) -> String {
    if hits.is_empty() {
        return "no messages match\n".into();
    }
    hits.iter()
        .map(|m| {
            let who = if m.outgoing {
                format!("you → {}", m.to)
            } else {
                format!("{}", m.from)
            };
            format!(
                "{}  {}  {}\n",
                format::relative_time(now, m.sent_at),
                who,
                format::one_line(&m.text, 80)
            )
        })
        .collect()
}
