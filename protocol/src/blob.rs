//! `/paperplane/blob/1`: content-addressed media in chunks, and image sniffing.

use serde::{Deserialize, Serialize};

use crate::ids::BlobHash;

/// The image formats a post or avatar may carry, recognised by their leading bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ImageKind {
    /// JPEG (`FF D8 FF`).
    Jpeg,
    /// PNG (`89 50 4E 47 0D 0A 1A 0A`).
    Png,
    /// WebP (`RIFF....WEBP`).
    Webp,
}

impl ImageKind {
    /// Recognises the format from the first bytes, or `None` if it is none of the three.
    pub fn sniff(bytes: &[u8]) -> Option<Self> {
        if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(Self::Jpeg)
        } else if bytes.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
            Some(Self::Png)
        } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
            Some(Self::Webp)
        } else {
            None
        }
    }

    /// The MIME type.
    pub fn mime(self) -> &'static str {
        match self {
            Self::Jpeg => "image/jpeg",
            Self::Png => "image/png",
            Self::Webp => "image/webp",
        }
    }
}

/// Asks a peer for part of a blob.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlobRequest {
    /// Which blob.
    pub hash: BlobHash,
    /// Where the chunk starts.
    pub offset: u64,
}

/// A peer's answer to a [`BlobRequest`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum BlobResponse {
    /// Up to [`crate::limits::BLOB_CHUNK_BYTES`] bytes starting at the requested offset.
    Chunk {
        /// Size of the whole blob.
        total_len: u64,
        /// The bytes.
        #[serde(with = "as_bytes")]
        bytes: Vec<u8>,
    },
    /// The peer does not have the blob.
    NotFound,
    /// The request was refused (e.g. offset past the end).
    Refused(String),
}

/// A chunk's bytes through serde as one byte string rather than a sequence of `u8`s: the
/// same encoding (a length, then the bytes), written and read in one copy instead of byte by
/// byte.
mod as_bytes {
    use serde::{de, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(bytes)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        d.deserialize_byte_buf(Visitor)
    }

    struct Visitor;

    impl<'de> de::Visitor<'de> for Visitor {
        type Value = Vec<u8>;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("bytes")
        }

        fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Vec<u8>, E> {
            Ok(v.to_vec())
        }

        fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> Result<Vec<u8>, E> {
            Ok(v)
        }

        fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<u8>, A::Error> {
            let mut v = Vec::new();
            while let Some(b) = seq.next_element()? {
                v.push(b);
            }
            Ok(v)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffing() {
        assert_eq!(
            ImageKind::sniff(&[0xFF, 0xD8, 0xFF, 0xE0]),
            Some(ImageKind::Jpeg)
        );
        assert_eq!(
            ImageKind::sniff(b"RIFF\0\0\0\0WEBPVP8 "),
            Some(ImageKind::Webp)
        );
        assert_eq!(ImageKind::sniff(b"RIFF\0\0\0\0WAVE"), None);
        assert_eq!(ImageKind::sniff(b"GIF89a"), None);
        assert_eq!(ImageKind::sniff(&[]), None);
    }

    /// A chunk's bytes are encoded as before (as a sequence of `u8`s: a length, then the
    /// bytes), so peers of either version read each other's chunks.
    #[test]
    fn chunk_bytes_keep_their_encoding() {
        #[derive(Serialize, Deserialize, PartialEq, Debug)]
        enum Before {
            Chunk { total_len: u64, bytes: Vec<u8> },
            NotFound,
            Refused(String),
        }
        let bytes: Vec<u8> = (0..1000u32).map(|i| (i % 256) as u8).collect();
        let now = BlobResponse::Chunk {
            total_len: 5000,
            bytes: bytes.clone(),
        };
        let before = Before::Chunk {
            total_len: 5000,
            bytes,
        };
        assert_eq!(crate::encode(&now), crate::encode(&before));
        assert_eq!(
            crate::decode::<BlobResponse>(&crate::encode(&before), 4096),
            Ok(now)
        );
        assert_eq!(
            crate::decode::<Before>(&crate::encode(&BlobResponse::NotFound), 4096),
            Ok(Before::NotFound)
        );
    }
}
