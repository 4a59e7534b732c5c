//! Gossip: subscribing to topics and publishing the own profile (with current messaging
//! keys) and records, kept for later while no peer subscribes yet.

use libp2p::gossipsub::{self, IdentTopic};
use paperplane_protocol::Topic;

use super::{Actor, MAX_PENDING_PUBLISH};
use crate::{error::Result, net};

impl Actor {
    /// Rotates the prekeys if due and makes sure the own profile carries the current keys,
    /// publishing a new profile version if it changed.
    /// (With the mailboxes the user names: changing them publishes a new version too.)
    pub(super) fn publish_messaging_keys(&mut self) -> Result<()> {
        let now = self.now();
        if self.prekeys.rotate_if_due(&mut rand::rng(), now) {
            self.store.put_prekeys(&self.prekeys)?;
        }
        let mut keys = self.prekeys.messaging_keys(&self.identity, &self.messaging);
        keys.mailboxes = self.mailboxes.mine.clone();
        let Some(current) = self.store.profile(&self.me)? else {
            return Ok(());
        };
        if current.body.messaging.as_ref() == Some(&keys) {
            return Ok(());
        }
        let body = crate::profile::with_messaging_keys(&current.body, keys, now)?;
        let signed = self.identity.sign_record(body);
        self.store.put_profile_if_newer(&signed)?;
        // The prekeys' secrets and the profile announcing them are on disk before the
        // profile goes out: after a crash, peers must not hold keys this node has lost.
        self.store.flush_blocking()?;
        self.publish(Topic::Profiles, paperplane_protocol::encode(&signed));
        Ok(())
    }

    /// Subscribes to `topic`, with its score parameters; feed topics only if feed gossip is
    /// on ([`crate::NodeConfig::feed_gossip`]).
    pub(super) fn subscribe(&mut self, topic: Topic) {
        if matches!(topic, Topic::Feed(_)) && !self.feed_gossip {
            return;
        }
        let t = IdentTopic::new(topic.name());
        let gs = &mut self.swarm.behaviour_mut().gossipsub;
        if let Err(e) = gs.subscribe(&t) {
            tracing::warn!(topic = %t, error = ?e, "subscribe failed");
        }
        let _ = gs.set_topic_params(t, net::topic_score_params());
    }

    pub(super) fn unsubscribe(&mut self, topic: Topic) {
        let t = IdentTopic::new(topic.name());
        self.swarm.behaviour_mut().gossipsub.unsubscribe(&t);
    }

    /// Publishes `bytes` on `topic`; kept for later if no peer subscribes to it yet (sync
    /// covers anything still missed).
    pub(super) fn publish(&mut self, topic: Topic, bytes: Vec<u8>) {
        let t = IdentTopic::new(topic.name());
        match self
            .swarm
            .behaviour_mut()
            .gossipsub
            .publish(t.clone(), bytes.clone())
        {
            Ok(_) | Err(gossipsub::PublishError::Duplicate) => {}
            Err(gossipsub::PublishError::NoPeersSubscribedToTopic) => {
                let queue = self.pending_publish.entry(t.hash()).or_default();
                if queue.len() == MAX_PENDING_PUBLISH {
                    queue.remove(0);
                }
                queue.push(bytes);
            }
            Err(e) => tracing::warn!(topic = %t, error = %e, "publish failed"),
        }
    }

    pub(super) fn publish_own_profile(&mut self) {
        match self.store.profile(&self.me) {
            Ok(Some(p)) => self.publish(Topic::Profiles, paperplane_protocol::encode(&p)),
            Ok(None) => {}
            Err(e) => tracing::error!(error = %e, "reading own profile"),
        }
    }
}
