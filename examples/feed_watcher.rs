//! A node that prints its feed and messages as they change.
//!
//! ```sh
//! cargo run --example feed_watcher -- /tmp/watcher [/ip4/127.0.0.1/tcp/PORT/p2p/12D3KooW...]
//! ```
//! The first argument is the node's home (initialised with the handle `watcher` if empty);
//! the optional second one is a peer to connect to. Stop with Ctrl-C.

use paperplane::{Event, Home, Node, NodeConfig};

#[tokio::main]
async fn main() -> paperplane::Result<()> {
    let mut args = std::env::args().skip(1);
    let home = Home::new(
        args.next()
            .unwrap_or_else(|| "/tmp/paperplane-watcher".into()),
    );
    if !home.is_initialised() {
        let id = paperplane::init(&home, "watcher", Some("Feed watcher"))?;
        println!("created {id}");
    }
    let node = Node::start(NodeConfig::from_home(home)?).await?;
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
                Some(Event::Post { post }) => println!(
                    "new post by @{}: {} ({} photo(s))",
                    post.author_handle.as_deref().unwrap_or("?"),
                    post.caption,
                    post.photos.len()
                ),
                Some(Event::Message { message, request }) => println!(
                    "{} from {}: {}",
                    if request { "request" } else { "message" },
                    message.from,
                    message.text
                ),
                Some(Event::Like { post, by, liked: true }) => println!("{by} liked {}", post.short()),
                Some(_) => {}
                None => break,
            },
        }
    }
    for post in node.feed(20)? {
        println!(
            "{}  {}  ♥ {}",
            post.id.short(),
            post.caption,
            post.liked_by.len()
        );
    }
    node.shutdown().await
}
