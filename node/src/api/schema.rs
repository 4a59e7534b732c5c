//! Schemas of the text forms the API gives its identifiers and binary data, for the types
//! that live outside this crate (peer ids, record ids, hashes) or travel as text (base64).
//! The request and response types name them with `#[schema(value_type = …)]`.

use std::borrow::Cow;

use utoipa::{
    openapi::{schema::SchemaType, Object, ObjectBuilder, RefOr, Schema, Type},
    PartialSchema, ToSchema,
};

use super::params::{HASH_PATTERN, MESSAGE_ID_PATTERN, PEER_ID_PATTERN};

/// Padded base64 (standard alphabet), the way photos travel in JSON.
pub const BASE64_PATTERN: &str = "^([A-Za-z0-9+/]{4})*([A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$";
/// A record id: 64 hex digits.
pub const RECORD_ID_PATTERN: &str = "^[0-9a-f]{64}$";

/// Length of the padded base64 encoding of `n` bytes.
pub const fn base64_len(n: usize) -> usize {
    n.div_ceil(3) * 4
}

/// A string of `min..=max` characters matching `pattern`.
pub fn text(min: usize, max: usize, pattern: &str) -> Object {
    ObjectBuilder::new()
        .schema_type(SchemaType::Type(Type::String))
        .min_length(Some(min))
        .max_length(Some(max))
        .pattern(Some(pattern))
        .build()
}

macro_rules! text_schema {
    ($(#[$doc:meta])* $name:ident, $title:literal, $description:literal, $min:expr, $max:expr, $pattern:expr) => {
        $(#[$doc])*
        pub struct $name;

        impl PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                let mut object = text($min, $max, $pattern);
                object.description = Some($description.into());
                Schema::Object(object).into()
            }
        }

        impl ToSchema for $name {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed($title)
            }
        }
    };
}

text_schema!(
    /// A peer id, e.g. `12D3KooW…`.
    PeerIdText,
    "PeerId",
    "A libp2p peer id (base58).",
    52,
    52,
    PEER_ID_PATTERN
);
text_schema!(
    /// A post's or comment's id.
    RecordIdText,
    "RecordId",
    "A post's or comment's id: 64 hex digits.",
    64,
    64,
    RECORD_ID_PATTERN
);
text_schema!(
    /// A message's id.
    MessageIdText,
    "MessageId",
    "A message's id: 32 hex digits.",
    32,
    32,
    MESSAGE_ID_PATTERN
);
text_schema!(
    /// A group's id.
    GroupIdText,
    "GroupId",
    "A group's id: 32 hex digits.",
    32,
    32,
    MESSAGE_ID_PATTERN
);
text_schema!(
    /// A photo's hash.
    HashText,
    "BlobHash",
    "A photo's SHA-256: 64 hex digits.",
    64,
    64,
    HASH_PATTERN
);
text_schema!(
    /// One photo in base64.
    PhotoBase64,
    "PhotoBase64",
    "A JPEG, PNG or WebP photo of at most 8 MiB, base64 (standard alphabet, padded).",
    1,
    base64_len(paperplane_protocol::limits::MAX_PHOTO_BYTES as usize),
    BASE64_PATTERN
);

/// Raw bytes (a photo), for responses that are not JSON.
pub struct Binary;

impl PartialSchema for Binary {
    fn schema() -> RefOr<Schema> {
        Schema::Object(
            ObjectBuilder::new()
                .schema_type(SchemaType::Type(Type::String))
                .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
                    utoipa::openapi::KnownFormat::Binary,
                )))
                .build(),
        )
        .into()
    }
}

impl ToSchema for Binary {}
