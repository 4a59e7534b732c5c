//! Gossip on an author's feed topic: a post, like, comment, comment deletion or follow,
//! decoded, round-tripped and verified.
#![no_main]

use libfuzzer_sys::fuzz_target;
use paperplane_fuzz::checks;
use paperplane_protocol::{limits::MAX_GOSSIP_BYTES, FeedMessage, Topic};

fuzz_target!(|data: &[u8]| {
    if let Some(message) = checks::decode_eq::<FeedMessage>(data, MAX_GOSSIP_BYTES) {
        checks::verify_feed(&message);
        let topic = Topic::Feed(*message.topic_author());
        assert_eq!(Topic::parse(&topic.name()), Some(topic));
    }
});
