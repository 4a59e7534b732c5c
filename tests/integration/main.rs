//! The integration tests, one binary so the node links once: nodes on loopback driven through
//! the library, a hostile peer, the local API's server and client together, and the real
//! `paperplane` binary driven through its command line.

mod common;
mod common_cli;

mod adversary;
mod api;
mod business;
mod chat;
mod chat_cli;
mod chat_photos;
mod cli;
mod cli_business;
mod cli_groups;
mod crowd;
mod discovery;
mod feed;
mod flood;
mod gossip;
mod group_attacks;
mod groups;
mod keys;
mod mailboxes;
mod memory;
mod messages;
mod netns;
mod recovery;
mod spam;
mod streams;
mod sync_abuse;
mod web;
