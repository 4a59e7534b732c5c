//! Reassembly of a blob from chunks, checked against its hash. Pure: the actor feeds in
//! responses and acts on the returned [`Step`], and sends the requests
//! [`Assembly::next_request`] hands out (a few in flight at once, answered in any order).

use std::collections::{BTreeMap, BTreeSet, HashSet, VecDeque};

use paperplane_protocol::{
    limits::{BLOB_CHUNK_BYTES, MAX_PHOTO_BYTES},
    BlobHash, ImageKind,
};
use sha2::{Digest, Sha256};

/// Chunk requests in flight per blob. The peer's slots (`net::MAX_REQUESTS_IN_FLIGHT`) bound
/// them further, so this many hide the round trip of each chunk without asking for more
/// streams than a connection allows.
pub(crate) const CHUNKS_IN_FLIGHT: usize = 3;

/// What to do after a chunk.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Step {
    /// More to come: `have` bytes from the start are here; send what
    /// [`Assembly::next_request`] hands out.
    Continue {
        /// Bytes assembled in order so far.
        have: u64,
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
///
/// Requests go out at most [`CHUNKS_IN_FLIGHT`] at a time and at most that many chunks ahead
/// of the bytes assembled in order, so chunks that arrive early (held until the gap before
/// them is filled) stay under `CHUNKS_IN_FLIGHT + 1` chunks. The bytes in order are hashed
/// as they arrive. A request is assumed to bring a whole chunk (or the rest of the blob); a
/// shorter answer leaves a gap that is asked for again.
#[derive(Debug)]
pub(crate) struct Assembly {
    hash: BlobHash,
    expect: Expect,
    /// The bytes from the start, in order.
    buf: Vec<u8>,
    /// `buf` hashed so far.
    hasher: Sha256,
    total: Option<u64>,
    /// Offsets asked for and not answered yet.
    in_flight: BTreeSet<u64>,
    /// Chunks that arrived ahead of `buf`, by offset.
    ahead: BTreeMap<u64, Vec<u8>>,
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
            hasher: Sha256::new(),
            total: None,
            in_flight: BTreeSet::new(),
            ahead: BTreeMap::new(),
        }
    }

    /// What the blob must be.
    pub(crate) fn expect(&self) -> Expect {
        self.expect
    }

    /// The size the blob must have, once known: a sealed blob's from the start, an image's
    /// from the first answer.
    fn total(&self) -> Option<u64> {
        match self.expect {
            Expect::Sealed(size) => Some(size),
            Expect::Image => self.total,
        }
    }

    /// Whether a request for `offset` is out or waiting for a slot.
    #[cfg(test)]
    pub(crate) fn is_requested(&self, offset: u64) -> bool {
        self.in_flight.contains(&offset)
    }

    /// The next offset to ask for, now counted as in flight; `None` if enough are in flight,
    /// or everything left is asked for. Until an image's size is known, one at a time.
    pub(crate) fn next_request(&mut self) -> Option<u64> {
        if self.in_flight.len() >= CHUNKS_IN_FLIGHT {
            return None;
        }
        let chunk = u64::from(BLOB_CHUNK_BYTES);
        let Some(total) = self.total() else {
            return self.in_flight.is_empty().then(|| {
                self.in_flight.insert(0);
                0
            });
        };
        let limit = total.min(self.buf.len() as u64 + CHUNKS_IN_FLIGHT as u64 * chunk);
        // The first byte neither here, nor ahead, nor asked for (a request is counted as
        // bringing a whole chunk). A few intervals at most: scanned.
        let asked = self.in_flight.iter().map(|&o| (o, o.saturating_add(chunk)));
        let held = self
            .ahead
            .iter()
            .map(|(&o, b)| (o, o.saturating_add(b.len() as u64)));
        let covered: Vec<(u64, u64)> = asked.chain(held).collect();
        let mut pos = self.buf.len() as u64;
        while let Some(end) = covered
            .iter()
            .filter(|(start, end)| *start <= pos && pos < *end)
            .map(|(_, end)| *end)
            .max()
        {
            pos = end;
        }
        if pos >= limit {
            return None;
        }
        self.in_flight.insert(pos);
        Some(pos)
    }

    /// Forgets partial data and requests, to start over with another peer.
    pub(crate) fn reset(&mut self) {
        self.buf.clear();
        self.hasher = Sha256::new();
        self.total = None;
        self.in_flight.clear();
        self.ahead.clear();
    }

    /// Takes the answer to the request for `offset`: `total_len` and the chunk.
    pub(crate) fn on_chunk(&mut self, offset: u64, total_len: u64, bytes: &[u8]) -> Step {
        if !self.in_flight.remove(&offset) {
            return Step::Bad("answer to a chunk never asked for");
        }
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
        let end = offset.saturating_add(bytes.len() as u64);
        if bytes.is_empty() || bytes.len() as u64 > u64::from(BLOB_CHUNK_BYTES) || end > total_len {
            return Step::Bad("chunk does not fit the blob");
        }
        if self.buf.capacity() == 0 {
            // Bounded: `total_len` is checked above.
            self.buf.reserve_exact(total_len as usize);
        }
        self.ahead.entry(offset).or_insert_with(|| bytes.to_vec());
        self.take_in_order();
        let have = self.buf.len() as u64;
        if have < total_len {
            return Step::Continue { have };
        }
        let hasher = std::mem::replace(&mut self.hasher, Sha256::new());
        if BlobHash(hasher.finalize().into()) != self.hash {
            return Step::Bad("blob bytes do not match their hash");
        }
        if self.expect == Expect::Image && ImageKind::sniff(&self.buf).is_none() {
            return Step::Bad("blob is not an image");
        }
        Step::Done(std::mem::take(&mut self.buf))
    }

    /// Moves the chunks that continue `buf` into it (the part of a chunk that overlaps what
    /// is there already is skipped), hashing them.
    fn take_in_order(&mut self) {
        while let Some(entry) = self.ahead.first_entry() {
            let have = self.buf.len() as u64;
            if *entry.key() > have {
                return;
            }
            let (start, bytes) = entry.remove_entry();
            let skip = usize::try_from(have - start).unwrap_or(usize::MAX);
            if let Some(new) = bytes.get(skip..) {
                self.hasher.update(new);
                self.buf.extend_from_slice(new);
            }
        }
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
        v.extend((0..len - 8).map(|i| (i % 251) as u8));
        v
    }

    const C: usize = BLOB_CHUNK_BYTES as usize;

    /// The answer to a request for `offset`: a whole chunk or the rest.
    fn chunk(data: &[u8], offset: u64) -> &[u8] {
        let start = offset as usize;
        &data[start..(start + C).min(data.len())]
    }

    #[test]
    fn assembles_in_chunks_and_verifies() {
        let data = png(1000);
        let mut a = Assembly::new(BlobHash::of(&data));
        assert_eq!(a.next_request(), Some(0));
        assert_eq!(
            a.next_request(),
            None,
            "one at a time until the size is known"
        );
        assert_eq!(a.on_chunk(0, 1000, &data), Step::Done(data.clone()));
    }

    #[test]
    fn keeps_a_few_requests_in_flight_and_reassembles_answers_in_any_order() {
        let data = png(3 * C + 1000);
        let total = data.len() as u64;
        let mut a = Assembly::expecting(BlobHash::of(&data), Expect::Sealed(total));
        // The size is known: a window of requests at once, no more.
        let first: Vec<u64> = std::iter::from_fn(|| a.next_request()).collect();
        assert_eq!(first, vec![0, C as u64, 2 * C as u64]);
        assert_eq!(first.len(), CHUNKS_IN_FLIGHT);
        // Answers out of order are held until the gap before them is filled.
        assert_eq!(
            a.on_chunk(2 * C as u64, total, chunk(&data, 2 * C as u64)),
            Step::Continue { have: 0 }
        );
        // Not further than the window ahead of what is in order.
        assert_eq!(a.next_request(), None);
        assert_eq!(
            a.on_chunk(C as u64, total, chunk(&data, C as u64)),
            Step::Continue { have: 0 }
        );
        assert_eq!(a.next_request(), None);
        assert_eq!(
            a.on_chunk(0, total, chunk(&data, 0)),
            Step::Continue { have: 3 * C as u64 }
        );
        assert_eq!(a.next_request(), Some(3 * C as u64));
        assert_eq!(a.next_request(), None, "nothing left to ask for");
        assert_eq!(
            a.on_chunk(3 * C as u64, total, chunk(&data, 3 * C as u64)),
            Step::Done(data.clone())
        );
    }

    #[test]
    fn an_image_opens_the_window_once_its_size_is_known() {
        let data = png(2 * C + 10);
        let total = data.len() as u64;
        let mut a = Assembly::new(BlobHash::of(&data));
        assert_eq!(a.next_request(), Some(0));
        assert_eq!(a.next_request(), None);
        assert_eq!(
            a.on_chunk(0, total, chunk(&data, 0)),
            Step::Continue { have: C as u64 }
        );
        assert_eq!(a.next_request(), Some(C as u64));
        assert_eq!(a.next_request(), Some(2 * C as u64));
        assert_eq!(a.next_request(), None);
        assert_eq!(
            a.on_chunk(2 * C as u64, total, chunk(&data, 2 * C as u64)),
            Step::Continue { have: C as u64 }
        );
        assert_eq!(
            a.on_chunk(C as u64, total, chunk(&data, C as u64)),
            Step::Done(data.clone())
        );
    }

    #[test]
    fn a_short_answer_leaves_a_gap_that_is_asked_for_again() {
        let data = png(2 * C);
        let total = data.len() as u64;
        let mut a = Assembly::expecting(BlobHash::of(&data), Expect::Sealed(total));
        assert_eq!(a.next_request(), Some(0));
        assert_eq!(a.next_request(), Some(C as u64));
        // The first answer brings only 100 bytes.
        assert_eq!(
            a.on_chunk(0, total, &data[..100]),
            Step::Continue { have: 100 }
        );
        // The gap [100, C) is asked for at once.
        assert!(a.is_requested(C as u64));
        assert_eq!(a.next_request(), Some(100));
        assert_eq!(a.next_request(), None);
        assert_eq!(
            a.on_chunk(C as u64, total, chunk(&data, C as u64)),
            Step::Continue { have: 100 }
        );
        // Its answer overlaps the chunk held after it: the overlap is taken once.
        assert_eq!(
            a.on_chunk(100, total, chunk(&data, 100)),
            Step::Done(data.clone())
        );
    }

    #[test]
    fn answers_nobody_asked_for_are_refused_and_reset_forgets_everything() {
        let data = png(2 * C);
        let total = data.len() as u64;
        let mut a = Assembly::expecting(BlobHash::of(&data), Expect::Sealed(total));
        assert_eq!(
            a.on_chunk(0, total, chunk(&data, 0)),
            Step::Bad("answer to a chunk never asked for")
        );
        assert_eq!(a.next_request(), Some(0));
        assert_eq!(a.next_request(), Some(C as u64));
        assert_eq!(
            a.on_chunk(C as u64, total, chunk(&data, C as u64)),
            Step::Continue { have: 0 }
        );
        a.reset();
        assert!(!a.is_requested(0));
        assert_eq!(
            a.on_chunk(0, total, chunk(&data, 0)),
            Step::Bad("answer to a chunk never asked for")
        );
        // From the start again, with another peer.
        assert_eq!(a.next_request(), Some(0));
        assert_eq!(a.next_request(), Some(C as u64));
        assert_eq!(
            a.on_chunk(0, total, chunk(&data, 0)),
            Step::Continue { have: C as u64 }
        );
        assert_eq!(
            a.on_chunk(C as u64, total, chunk(&data, C as u64)),
            Step::Done(data.clone())
        );
    }

    #[test]
    fn sealed_blobs_are_opaque_and_of_the_size_expected() {
        let data = b"sealed bytes, no image".to_vec();
        let hash = BlobHash::of(&data);
        let size = data.len() as u64;
        let mut a = Assembly::expecting(hash, Expect::Sealed(size));
        assert_eq!(a.next_request(), Some(0));
        assert_eq!(a.next_request(), None);
        assert_eq!(a.on_chunk(0, size, &data[..5]), Step::Continue { have: 5 });
        assert_eq!(a.next_request(), Some(5));
        assert_eq!(a.on_chunk(5, size, &data[5..]), Step::Done(data.clone()));
        let mut a = Assembly::expecting(hash, Expect::Sealed(size + 1));
        assert_eq!(a.next_request(), Some(0));
        assert_eq!(
            a.on_chunk(0, size, &data),
            Step::Bad("blob size out of bounds")
        );
    }

    #[test]
    fn wrong_bytes_are_rejected() {
        let data = png(100);
        let mut wrong = data.clone();
        wrong[50] ^= 1;
        let mut a = Assembly::new(BlobHash::of(&data));
        a.next_request();
        assert_eq!(
            a.on_chunk(0, 100, &wrong),
            Step::Bad("blob bytes do not match their hash")
        );
        let mut a = Assembly::new(BlobHash::of(&data));
        a.next_request();
        assert_eq!(a.on_chunk(0, 100, &data[..60]), Step::Continue { have: 60 });
        assert_eq!(a.next_request(), Some(60));
        assert_eq!(
            a.on_chunk(60, 101, &data[60..]),
            Step::Bad("blob size changed between chunks")
        );
        let mut a = Assembly::new(BlobHash::of(&data));
        a.next_request();
        assert_eq!(
            a.on_chunk(0, 50, &data),
            Step::Bad("chunk does not fit the blob")
        );
        let mut a = Assembly::new(BlobHash::of(&data));
        a.next_request();
        assert_eq!(
            a.on_chunk(0, 100, &[]),
            Step::Bad("chunk does not fit the blob")
        );
        let mut a = Assembly::new(BlobHash::of(&data));
        a.next_request();
        assert_eq!(
            a.on_chunk(0, MAX_PHOTO_BYTES + 1, &data),
            Step::Bad("blob size out of bounds")
        );
        let text = b"not an image".to_vec();
        let mut a = Assembly::new(BlobHash::of(&text));
        a.next_request();
        assert_eq!(
            a.on_chunk(0, text.len() as u64, &text),
            Step::Bad("blob is not an image")
        );
    }
}
