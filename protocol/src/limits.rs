//! Every size and count bound of the protocol, in one place.

/// Longest display name, in characters.
pub const MAX_DISPLAY_NAME_CHARS: usize = 64;
/// Longest bio, in characters (Instagram's limit).
pub const MAX_BIO_CHARS: usize = 150;
/// Longest business category, in characters.
pub const MAX_CATEGORY_CHARS: usize = 64;
/// Longest post caption, in characters (Instagram's limit).
pub const MAX_CAPTION_CHARS: usize = 2_200;
/// Longest comment, in characters.
pub const MAX_COMMENT_CHARS: usize = 2_200;
/// Most photos in one post.
pub const MAX_PHOTOS_PER_POST: usize = 10;
/// Largest photo, in bytes.
pub const MAX_PHOTO_BYTES: u64 = 8 * 1024 * 1024;
/// Most prekeys a profile may publish (the current one and the two before it).
pub const MAX_PREKEYS: usize = 3;
/// How far in the future a record's timestamp may lie before it is rejected (clock skew).
pub const MAX_CLOCK_SKEW_MS: u64 = 10 * 60 * 1000;

/// Largest encoded gossip message. Gossipsub's `max_transmit_size` must exceed this by the
/// envelope's overhead (see `node`), on every node.
pub const MAX_GOSSIP_BYTES: usize = 64 * 1024;
/// Largest encoded sync request.
pub const MAX_SYNC_REQUEST_BYTES: usize = 1024;
/// Largest encoded sync response.
pub const MAX_SYNC_RESPONSE_BYTES: usize = 4 * 1024 * 1024;
/// Most posts one sync response carries; `more` says whether others follow.
pub const MAX_SYNC_POSTS: u32 = 100;
/// Most likes, comments and follows one sync response carries.
pub const MAX_SYNC_REACTIONS: usize = 10_000;
/// Largest chunk of a blob in one response.
pub const BLOB_CHUNK_BYTES: u32 = 256 * 1024;
/// Largest encoded blob request.
pub const MAX_BLOB_REQUEST_BYTES: usize = 256;
/// Largest encoded blob response (one chunk plus framing).
pub const MAX_BLOB_RESPONSE_BYTES: usize = BLOB_CHUNK_BYTES as usize + 1024;
/// Upper bound on any decoded frame; a length prefix claiming more is rejected before allocating.
pub const MAX_FRAME_BYTES: usize = 16 * 1024 * 1024;
/// Most frequently asked questions a business profile publishes.
pub const MAX_FAQ_ENTRIES: usize = 10;
/// Longest FAQ question, in characters.
pub const MAX_FAQ_QUESTION_CHARS: usize = 200;
/// Longest FAQ answer, in characters. Ten entries at the limits, four bytes a character,
/// stay well under [`MAX_GOSSIP_BYTES`] with the rest of a profile.
pub const MAX_FAQ_ANSWER_CHARS: usize = 1_000;
