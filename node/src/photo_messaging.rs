//! The [`Node`] handle's chat-photo methods: send a photo in a chat, read a chat photo's
//! bytes, and the message views that show where a photo stands.

use paperplane_protocol::{ImageKind, MessageBody, MessageId, PeerId};

use crate::{
    actor::Command,
    chat_photo::{ChatPhotoState, ChatPhotoView},
    error::{Error, IdKind, Result, SendError},
    messaging::Wait,
    node::Node,
    store::messages::StoredMessage,
    views::MessageView,
};

impl Node {
    /// Sends a photo (a JPEG, PNG or WebP of at most 8 MiB, like a post's) with a caption
    /// (may be empty) to `peer`. The photo is sealed under a fresh random key before it
    /// leaves the node; the key travels in the end-to-end encrypted message, and the
    /// recipient fetches the sealed bytes from this node once the message is delivered
    /// ([`crate::Event::ChatPhotoProgress`], on both ends). Returns like [`Node::send`].
    pub async fn send_photo(
        &self,
        peer: PeerId,
        photo: Vec<u8>,
        caption: impl Into<String>,
        wait: Wait,
    ) -> Result<MessageView, SendError> {
        let caption = caption.into();
        self.send_command(
            |reply| Command::SendPhoto {
                peer,
                photo,
                caption,
                reply,
            },
            wait,
        )
        .await
    }

    /// Sends a message of any kind the protocol has, as it is (validated like every
    /// message). Apps use [`Node::send`] and [`Node::send_photo`]; this is for tools that
    /// speak the protocol directly (a photo described here must be sealed in this node's
    /// blobs for its recipient to fetch it).
    pub async fn send_body(
        &self,
        peer: PeerId,
        body: MessageBody,
        wait: Wait,
    ) -> Result<MessageView, SendError> {
        self.send_command(|reply| Command::Send { peer, body, reply }, wait)
            .await
    }

    /// The bytes and MIME type of the photo of message `id`: once it is decrypted, verified
    /// and on this node (a photo still to fetch, or discarded, is an error that says so).
    pub fn chat_photo(&self, id: &MessageId) -> Result<(Vec<u8>, &'static str)> {
        let no_such = || Error::NoSuch {
            kind: IdKind::Message,
            id: id.to_string(),
        };
        let m = self.store().message(id)?.ok_or_else(no_such)?;
        let view = self.view(&m).photo.ok_or(Error::NotAPhoto(*id))?;
        if view.state != ChatPhotoState::Ready {
            return Err(Error::ChatPhotoNotReady {
                id: *id,
                state: view.state.as_str(),
                reason: view.error,
            });
        }
        let bytes = self
            .store()
            .chat_photo(&view.hash)?
            .ok_or(Error::ChatPhotoNotReady {
                id: *id,
                state: ChatPhotoState::Fetching.as_str(),
                reason: None,
            })?;
        let mime = ImageKind::sniff(&bytes).map_or("application/octet-stream", ImageKind::mime);
        Ok((bytes, mime))
    }

    /// Where the photo of `m` stands on this node.
    pub(crate) fn photo_state(&self, m: &StoredMessage, photo: ChatPhotoView) -> ChatPhotoView {
        let fetch = if m.outgoing {
            None
        } else {
            self.store().photo_fetch(&m.peer, &m.id).ok().flatten()
        };
        let local = self.store().has_chat_photo(&photo.hash).unwrap_or(false);
        photo.with_state(fetch, local)
    }
}
