//! A business that answers its frequently asked questions by itself: it publishes a FAQ in
//! its signed profile and, when a message contains the keywords of a question, sends the
//! answer back.
//!
//! ```sh
//! cargo run --example faq_bot -- /tmp/bakery [/ip4/127.0.0.1/tcp/PORT/p2p/12D3KooW...]
//! ```
//! The first argument is the node's home (initialised with the handle `bakery` and made a
//! business account if needed); the optional second one is a peer to connect to. Stop with
//! Ctrl-C.

use paperplane::{protocol::FaqEntry, Event, Home, Node, NodeConfig, ProfileUpdate, Wait};

/// The bot's questions, answers and the keywords that ask them.
const FAQ: &[(&str, &str, &[&str])] = &[
    (
        "When are you open?",
        "Every day 7:00–19:00, Sundays until 12:00 🥐",
        &["open", "hours", "opening", "close", "closing"],
    ),
    (
        "Do you deliver?",
        "Yes, within 5 km, for orders over 20 € 🚲",
        &["deliver", "delivery", "shipping"],
    ),
    (
        "Do you have gluten-free bread?",
        "Yes, on Tuesdays and Fridays.",
        &["gluten", "celiac", "coeliac"],
    ),
];

/// The answer to the question whose keywords `text` mentions most (case-insensitive, whole
/// words), if any.
fn answer(text: &str) -> Option<&'static str> {
    let words: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    FAQ.iter()
        .map(|(_, answer, keys)| {
            let hits = keys
                .iter()
                .filter(|k| words.iter().any(|w| w == *k))
                .count();
            (hits, *answer)
        })
        .filter(|(hits, _)| *hits > 0)
        .max_by_key(|(hits, _)| *hits)
        .map(|(_, answer)| answer)
}

#[tokio::main]
async fn main() -> paperplane::Result<()> {
    let mut args = std::env::args().skip(1);
    let home = Home::new(
        args.next()
            .unwrap_or_else(|| "/tmp/paperplane-bakery".into()),
    );
    if !home.is_initialised() {
        let id = paperplane::init(&home, "bakery", Some("The Bakery"))?;
        println!("created {id}");
    }
    let node = Node::start(NodeConfig::from_home(home)?).await?;
    if node.profile(None)?.business_category.is_none() {
        node.set_profile(ProfileUpdate {
            business: Some(Some("Bakery".into())),
            ..Default::default()
        })
        .await?;
    }
    let faq = FAQ
        .iter()
        .map(|(question, answer, _)| FaqEntry {
            question: (*question).into(),
            answer: (*answer).into(),
        })
        .collect::<Vec<_>>();
    if node.faq(node.peer_id())?.len() != faq.len() {
        node.set_faq(faq).await?;
    }
    let mut events = node.events();
    if let Some(addr) = args.next() {
        let peer = node.connect(&addr).await?;
        println!("connected to {peer}");
    }
    for addr in node.status().await?.listen_addrs {
        println!("listening on {addr}");
    }
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => break,
            event = events.next() => match event {
                Some(Event::Message { message, .. }) if !message.outgoing => {
                    if let Some(reply) = answer(&message.text) {
                        match node.send(message.from, reply, Wait::Queued).await {
                            Ok(_) => println!("answered {}: {reply}", message.from),
                            Err(e) => eprintln!("cannot answer {}: {e}", message.from),
                        }
                    }
                }
                Some(_) => {}
                None => break,
            },
        }
    }
    node.shutdown().await
}
