//! Reassembly of a blob from chunks, checked against its hash. Pure: the actor feeds in
//! responses and acts on the returned [`Step`].

use std::collections::{HashSet, VecDeque};

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

/// What a blob must be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Expect {
    /// A photo of a post or a profile: an image of at most [`MAX_PHOTO_BYTES`].
    Image,
    /// A sealed chat photo of exactly this many bytes (opaque until decrypted).
    Sealed(u64),
}

/// A blob being assembled from one peer's chunks.
#[derive(Debug)]
pub(crate) struct Assembly {
    hash: BlobHash,
    expect: Expect,
    buf: Vec<u8>,
    total: Option<u64>,
}

impl Assembly {
    /// Starts assembling `hash`, an image.
    #[cfg(test)]
    pub(crate) fn new(hash: BlobHash) -> Self {
        Self::expecting(hash, Expect::Image)
    }

    /// Starts assembling `hash`, which must be what `expect` says.
    pub(crate) fn expecting(hash: BlobHash, expect: Expect) -> Self {
        Self {
            hash,
            expect,
            buf: Vec::new(),
            total: None,
        }
    }

    /// What the blob must be.
    pub(crate) fn expect(&self) -> Expect {
        self.expect
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
        let in_bounds = match self.expect {
            Expect::Image => total_len <= MAX_PHOTO_BYTES,
            Expect::Sealed(size) => total_len == size,
        };
        if total_len == 0 || !in_bounds {
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
        if self.expect == Expect::Image && ImageKind::sniff(&self.buf).is_none() {
            return Step::Bad("blob is not an image");
        }
        Step::Done(std::mem::take(&mut self.buf))
    }
}

/// Which blobs are being assembled (at most `max_active`, each holding up to a photo in
/// memory) and which wait their turn (at most `max_waiting`), first come first served.
#[derive(Debug)]
pub(crate) struct FetchQueue<T> {
    active: HashSet<BlobHash>,
    waiting: VecDeque<(BlobHash, T)>,
    max_active: usize,
    max_waiting: usize,
}

/// What [`FetchQueue::admit`] decided.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Admit<T> {
    /// Fetch it now.
    Start(T),
    /// Already being fetched or waiting: join that fetch.
    Joined(T),
    /// It waits for a free place.
    Queued,
    /// Too many are waiting: refused.
    Full(T),
}

impl<T> FetchQueue<T> {
    /// A queue fetching `max_active` blobs at once with `max_waiting` more in line.
    pub(crate) fn new(max_active: usize, max_waiting: usize) -> Self {
        Self {
            active: HashSet::new(),
            waiting: VecDeque::new(),
            max_active,
            max_waiting,
        }
    }

    /// Asks to fetch `hash`, carrying `item` (who waits for it).
    pub(crate) fn admit(&mut self, hash: BlobHash, item: T) -> Admit<T> {
        if self.active.contains(&hash) || self.waiting.iter().any(|(h, _)| *h == hash) {
            return Admit::Joined(item);
        }
        if self.active.len() < self.max_active {
            self.active.insert(hash);
            return Admit::Start(item);
        }
        if self.waiting.len() >= self.max_waiting {
            return Admit::Full(item);
        }
        self.waiting.push_back((hash, item));
        Admit::Queued
    }

    /// The waiting entry for `hash`, to join it.
    pub(crate) fn waiting_mut(&mut self, hash: &BlobHash) -> Option<&mut T> {
        self.waiting
            .iter_mut()
            .find(|(h, _)| h == hash)
            .map(|(_, item)| item)
    }

    /// The fetch of `hash` ended; its place is free.
    pub(crate) fn finish(&mut self, hash: &BlobHash) {
        self.active.remove(hash);
    }

    /// The next waiting blob, if a place is free: it counts as active from now on.
    pub(crate) fn next(&mut self) -> Option<(BlobHash, T)> {
        if self.active.len() >= self.max_active {
            return None;
        }
        let (hash, item) = self.waiting.pop_front()?;
        self.active.insert(hash);
        Some((hash, item))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hash(n: u8) -> BlobHash {
        BlobHash::of(&[n])
    }

    #[test]
    fn fetch_queue_bounds_active_and_waiting_blobs() {
        let mut q = FetchQueue::new(2, 2);
        assert_eq!(q.admit(hash(1), 'a'), Admit::Start('a'));
        assert_eq!(q.admit(hash(2), 'b'), Admit::Start('b'));
        assert_eq!(q.admit(hash(1), 'c'), Admit::Joined('c'));
        assert_eq!(q.admit(hash(3), 'd'), Admit::Queued);
        assert_eq!(q.admit(hash(3), 'e'), Admit::Joined('e'));
        assert_eq!(q.admit(hash(4), 'f'), Admit::Queued);
        assert_eq!(q.admit(hash(5), 'g'), Admit::Full('g'));
        // Nothing starts until a place is free, then the oldest waiting one does.
        assert_eq!(q.next(), None);
        q.finish(&hash(2));
        assert_eq!(q.next(), Some((hash(3), 'd')));
        assert_eq!(q.next(), None);
        q.finish(&hash(1));
        q.finish(&hash(3));
        assert_eq!(q.next(), Some((hash(4), 'f')));
        assert_eq!(q.next(), None);
        // One place is still free.
        assert_eq!(q.admit(hash(6), 'h'), Admit::Start('h'));
        assert_eq!(q.admit(hash(7), 'i'), Admit::Queued);
    }

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
    fn sealed_blobs_are_opaque_and_of_the_size_expected() {
        let data = b"sealed bytes, no image".to_vec();
        let hash = BlobHash::of(&data);
        let size = data.len() as u64;
        let mut a = Assembly::expecting(hash, Expect::Sealed(size));
        assert_eq!(a.on_chunk(size, &data[..5]), Step::Continue { offset: 5 });
        assert_eq!(a.on_chunk(size, &data[5..]), Step::Done(data.clone()));
        let mut a = Assembly::expecting(hash, Expect::Sealed(size + 1));
        assert_eq!(
            a.on_chunk(size, &data),
            Step::Bad("blob size out of bounds")
        );
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
