//! The encoding of every frame: one version byte, then bincode 2 (standard config) with a
//! size limit, and no trailing bytes.

use serde::{de::DeserializeOwned, Serialize};

use crate::{error::DecodeError, limits::MAX_FRAME_BYTES};

/// The encoding version this build writes and reads.
pub const VERSION: u8 = 1;

fn config() -> impl bincode::config::Config {
    bincode::config::standard().with_limit::<MAX_FRAME_BYTES>()
}

/// Encodes `value` as a versioned frame.
pub fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    let mut out = vec![VERSION];
    // Encoding into a Vec only fails for types serde cannot represent (none of ours) or
    // beyond the frame limit, which validated records never reach.
    bincode::serde::encode_into_std_write(value, &mut out, config())
        .expect("protocol types always encode");
    out
}

/// Encodes the body only, without a version byte: the canonical bytes a signature covers.
pub(crate) fn encode_body<T: Serialize>(value: &T) -> Vec<u8> {
    bincode::serde::encode_to_vec(value, config()).expect("protocol types always encode")
}

/// Decodes bytes made by [`encode_body`] (no version byte), with no trailing bytes.
pub(crate) fn decode_body<T: DeserializeOwned>(body: &[u8]) -> Result<T, DecodeError> {
    let (value, read) = bincode::serde::decode_from_slice(body, config())
        .map_err(|e| DecodeError::Malformed(e.to_string()))?;
    if read != body.len() {
        return Err(DecodeError::TrailingBytes(body.len() - read));
    }
    Ok(value)
}

/// Decodes a versioned frame of at most `max` bytes.
pub fn decode<T: DeserializeOwned>(bytes: &[u8], max: usize) -> Result<T, DecodeError> {
    if bytes.len() > max {
        return Err(DecodeError::TooLarge {
            size: bytes.len(),
            max,
        });
    }
    let (&version, body) = bytes.split_first().ok_or(DecodeError::Empty)?;
    if version != VERSION {
        return Err(DecodeError::UnsupportedVersion(version));
    }
    let (value, read) = bincode::serde::decode_from_slice(body, config())
        .map_err(|e| DecodeError::Malformed(e.to_string()))?;
    if read != body.len() {
        return Err(DecodeError::TrailingBytes(body.len() - read));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_rejections() {
        let v: (u32, String) = (7, "hi 👋".into());
        let bytes = encode(&v);
        assert_eq!(decode::<(u32, String)>(&bytes, 100), Ok(v));
        assert_eq!(decode::<(u32, String)>(&[], 100), Err(DecodeError::Empty));
        let mut wrong = bytes.clone();
        wrong[0] = 9;
        assert_eq!(
            decode::<(u32, String)>(&wrong, 100),
            Err(DecodeError::UnsupportedVersion(9))
        );
        assert!(matches!(
            decode::<(u32, String)>(&bytes, 3),
            Err(DecodeError::TooLarge { .. })
        ));
        let mut trailing = bytes.clone();
        trailing.push(0);
        assert_eq!(
            decode::<(u32, String)>(&trailing, 100),
            Err(DecodeError::TrailingBytes(1))
        );
    }

    #[test]
    fn huge_length_prefix_is_rejected_without_allocating() {
        // version, then a varint length of u64::MAX for a Vec<u8>.
        let bytes = [VERSION, 253, 255, 255, 255, 255, 255, 255, 255, 255];
        assert!(matches!(
            decode::<Vec<u8>>(&bytes, 100),
            Err(DecodeError::Malformed(_))
        ));
    }
}
