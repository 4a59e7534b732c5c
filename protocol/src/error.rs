//! Typed errors for decoding and validating protocol data.

/// Why bytes could not be decoded into a protocol value.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeError {
    /// The input was empty.
    #[error("empty frame")]
    Empty,
    /// The version byte is not one this build understands.
    #[error("unsupported encoding version {0}")]
    UnsupportedVersion(u8),
    /// The input is larger than the limit for its kind.
    #[error("frame of {size} bytes exceeds the limit of {max}")]
    TooLarge {
        /// Size of the input.
        size: usize,
        /// The limit it exceeded.
        max: usize,
    },
    /// The bytes are not a valid encoding of the expected type.
    #[error("malformed frame: {0}")]
    Malformed(String),
    /// Valid encoding followed by extra bytes.
    #[error("{0} trailing bytes after the frame")]
    TrailingBytes(usize),
}

/// Why a well-formed value is not acceptable.
#[derive(Debug, thiserror::Error, PartialEq, Eq, Clone)]
#[non_exhaustive]
pub enum ValidationError {
    /// A handle breaks the handle rules.
    #[error("invalid handle {handle:?}: {reason}")]
    Handle {
        /// The rejected handle.
        handle: String,
        /// Which rule it breaks.
        reason: &'static str,
    },
    /// A text field is longer than its limit.
    #[error("{field} is {len} characters long; the limit is {max}")]
    TooLong {
        /// Name of the field.
        field: &'static str,
        /// Its length in characters.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A count is outside its allowed range.
    #[error("{field} has {count} entries; allowed {min}..={max}")]
    Count {
        /// Name of the field.
        field: &'static str,
        /// How many there are.
        count: usize,
        /// Fewest allowed.
        min: usize,
        /// Most allowed.
        max: usize,
    },
    /// A photo is too large.
    #[error("photo of {size} bytes exceeds the limit of {max} bytes")]
    PhotoTooLarge {
        /// Its size.
        size: u64,
        /// The limit.
        max: u64,
    },
    /// A message is larger than allowed.
    #[error("message of {size} bytes exceeds the limit of {max} bytes")]
    MessageTooLarge {
        /// Its size.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// Bytes that should be a photo are not a JPEG, PNG or WebP image.
    #[error("not a JPEG, PNG or WebP image")]
    NotAnImage,
    /// The record's author key is not an ed25519 key.
    #[error("author id does not carry an ed25519 public key")]
    AuthorKey,
    /// The signature does not verify against the author's key.
    #[error("bad signature")]
    BadSignature,
    /// A timestamp lies too far in the future.
    #[error("timestamp {at} is too far in the future (now {now})")]
    FromTheFuture {
        /// The record's timestamp.
        at: u64,
        /// The validator's clock.
        now: u64,
    },
    /// A record's fields contradict each other or where it was found.
    #[error("inconsistent record: {0}")]
    Inconsistent(&'static str),
}
