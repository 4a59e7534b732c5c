//! Reassembly of a blob from chunks, checked against its hash. Pure: the actor feeds in
//! responses and acts on the returned [`Step`].

use paperplane_protocol::{limits::MAX_PHOTO_BYTES, BlobHash, ImageKind};

/// What to do after a chunk.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Step {
    /// Ask the same peer for the chunk at `offset`.
    Continue {
        /// Where the next chunk starts.
        offset: u64,
    },
    /// All bytes arrived and match the hash (and are an image).
    Done(Vec<u8>),
    /// The peer sent something wrong; try another.
    Bad(&'static str),
}

/// A blob being assembled from one peer's chunks.
#[derive(Debug)]
pub(crate) struct Assembly {
    hash: BlobHash,
    buf: Vec<u8>,
    total: Option<u64>,
}

impl Assembly {
    /// Starts assembling `hash`.
    pub(crate) fn new(hash: BlobHash) -> Self {
        Self {
            hash,
            buf: Vec::new(),
            total: None,
        }
    }

    /// Where the next request starts.
    pub(crate) fn offset(&self) -> u64 {
        self.buf.len() as u64
    }

    /// Forgets partial data, to start over with another peer.
    pub(crate) fn reset(&mut self) {
        self.buf.clear();
        self.total = None;
    }

    /// Takes one chunk answering a request at [`Assembly::offset`].
    pub(crate) fn on_chunk(&mut self, total_len: u64, bytes: &[u8]) -> Step {
        if total_len == 0 || total_len > MAX_PHOTO_BYTES {
            return Step::Bad("blob size out of bounds");
        }
        if *self.total.get_or_insert(total_len) != total_len {
            return Step::Bad("blob size changed between chunks");
        }
        if bytes.is_empty() || self.offset() + bytes.len() as u64 > total_len {
            return Step::Bad("chunk does not fit the blob");
        }
        self.buf.extend_from_slice(bytes);
        if self.offset() < total_len {
            return Step::Continue {
                offset: self.offset(),
            };
        }
        if BlobHash::of(&self.buf) != self.hash {
            return Step::Bad("blob bytes do not match their hash");
        }
        if ImageKind::sniff(&self.buf).is_none() {
            return Step::Bad("blob is not an image");
        }
        Step::Done(std::mem::take(&mut self.buf))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(len: usize) -> Vec<u8> {
        let mut v = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
        v.resize(len, 7);
        v
    }

    #[test]
    fn assembles_in_chunks_and_verifies() {
        let data = png(1000);
        let mut a = Assembly::new(BlobHash::of(&data));
        assert_eq!(
            a.on_chunk(1000, &data[..400]),
            Step::Continue { offset: 400 }
        );
        assert_eq!(
            a.on_chunk(1000, &data[400..800]),
            Step::Continue { offset: 800 }
        );
        assert_eq!(a.on_chunk(1000, &data[800..]), Step::Done(data.clone()));
    }

    #[test]
    fn wrong_bytes_are_rejected() {
        let data = png(100);
        let mut wrong = data.clone();
        wrong[50] ^= 1;
        let mut a = Assembly::new(BlobHash::of(&data));
        assert_eq!(
            a.on_chunk(100, &wrong),
            Step::Bad("blob bytes do not match their hash")
        );
        let mut a = Assembly::new(BlobHash::of(&data));
        assert_eq!(a.on_chunk(100, &data[..60]), Step::Continue { offset: 60 });
        assert_eq!(
            a.on_chunk(101, &data[60..]),
            Step::Bad("blob size changed between chunks")
        );
        let mut a = Assembly::new(BlobHash::of(&data));
        assert_eq!(
            a.on_chunk(50, &data),
            Step::Bad("chunk does not fit the blob")
        );
        assert_eq!(
            Assembly::new(BlobHash::of(&data)).on_chunk(MAX_PHOTO_BYTES + 1, &data),
            Step::Bad("blob size out of bounds")
        );
        let text = b"not an image".to_vec();
        let mut a = Assembly::new(BlobHash::of(&text));
        assert_eq!(
            a.on_chunk(text.len() as u64, &text),
            Step::Bad("blob is not an image")
        );
    }
}
