//! Frequently asked questions a business publishes in its signed profile, and the two
//! layouts of a profile's business details on the wire.
//!
//! Profiles signed before FAQ existed carry `business` as a plain `Option<BusinessInfo>`
//! with a category only; they are stored in users' stores and still gossiped by older nodes,
//! and their signatures cover those exact bytes. So the field is encoded as a tagged layout
//! whose first two tags are byte for byte the old option (bincode writes `None` as 0,
//! `Some` as 1, and an enum's variant index as a varint, so 0 and 1 are the same single
//! bytes):
//!
//! - tag 0: no business details (the old `None`);
//! - tag 1: a category and no FAQ (the old `Some(BusinessInfo { category })`);
//! - tag 2: a category and a non-empty FAQ.
//!
//! A profile without FAQ therefore encodes, signs and verifies exactly as before, and older
//! nodes keep reading it. A profile with FAQ uses tag 2, which an older node refuses to
//! decode: it keeps the business's previous profile version until it upgrades.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::{error::ValidationError, limits::*, records::BusinessInfo};

/// One question a business is often asked, with its answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaqEntry {
    /// The question, as people would ask it.
    pub question: String,
    /// The business's answer.
    pub answer: String,
}

/// Checks a FAQ: at most [`MAX_FAQ_ENTRIES`] entries, each question and answer non-blank
/// and within [`MAX_FAQ_QUESTION_CHARS`] and [`MAX_FAQ_ANSWER_CHARS`] characters.
pub fn validate(faq: &[FaqEntry]) -> Result<(), ValidationError> {
    if faq.len() > MAX_FAQ_ENTRIES {
        return Err(ValidationError::Count {
            field: "FAQ entries",
            count: faq.len(),
            min: 0,
            max: MAX_FAQ_ENTRIES,
        });
    }
    for entry in faq {
        check("FAQ question", &entry.question, MAX_FAQ_QUESTION_CHARS)?;
        check("FAQ answer", &entry.answer, MAX_FAQ_ANSWER_CHARS)?;
    }
    Ok(())
}

fn check(field: &'static str, text: &str, max: usize) -> Result<(), ValidationError> {
    let len = text.chars().count();
    if len > max {
        return Err(ValidationError::TooLong { field, len, max });
    }
    if text.trim().is_empty() {
        return Err(ValidationError::Inconsistent(
            "a FAQ question or answer is empty",
        ));
    }
    Ok(())
}

/// The wire layouts of `Profile::business` (see the module docs). Variants are only ever
/// added at the end.
#[derive(Serialize, Deserialize)]
enum BusinessLayout {
    /// Tag 0: a personal account.
    Personal,
    /// Tag 1: the first layout, a category only.
    Category(String),
    /// Tag 2: a category and its FAQ.
    WithFaq(String, Vec<FaqEntry>),
}

/// `#[serde(with)]` for `Profile::business`: the tagged layouts in binary encodings, the
/// plain option in human-readable ones.
pub(crate) mod business_layout {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(
        value: &Option<BusinessInfo>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            return value.serialize(s);
        }
        let layout = match value {
            None => BusinessLayout::Personal,
            Some(b) if b.faq.is_empty() => BusinessLayout::Category(b.category.clone()),
            Some(b) => BusinessLayout::WithFaq(b.category.clone(), b.faq.clone()),
        };
        layout.serialize(s)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<BusinessInfo>, D::Error> {
        if d.is_human_readable() {
            return Option::<BusinessInfo>::deserialize(d);
        }
        Ok(match BusinessLayout::deserialize(d)? {
            BusinessLayout::Personal => None,
            BusinessLayout::Category(category) => Some(BusinessInfo {
                category,
                faq: Vec::new(),
            }),
            BusinessLayout::WithFaq(category, faq) => {
                if faq.is_empty() {
                    // One profile has one encoding: an empty FAQ is written as tag 1.
                    return Err(serde::de::Error::custom(
                        "a FAQ layout with no entries (written as a category only)",
                    ));
                }
                Some(BusinessInfo { category, faq })
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use serde::{Deserialize, Serialize};

    use super::*;
    use crate::{
        decode, encode,
        records::{MessagingKeys, PhotoRef, Profile, Signed, SignedPrekey},
        Handle, PeerId,
    };

    /// The profile exactly as the first layout defined it.
    #[derive(Clone, Serialize, Deserialize)]
    struct LegacyProfile {
        author: PeerId,
        version: u64,
        updated_at: u64,
        handle: Handle,
        display_name: String,
        bio: String,
        avatar: Option<PhotoRef>,
        business: Option<LegacyBusiness>,
        messaging: Option<MessagingKeys>,
    }

    #[derive(Clone, Serialize, Deserialize)]
    struct LegacyBusiness {
        category: String,
    }

    fn peer() -> PeerId {
        libp2p_identity::Keypair::ed25519_from_bytes([9u8; 32])
            .expect("valid seed")
            .public()
            .to_peer_id()
    }

    fn keys() -> MessagingKeys {
        MessagingKeys {
            identity_key: [3; 32],
            identity_key_signature: vec![4; 64],
            prekeys: vec![SignedPrekey {
                id: 1,
                public: [5; 32],
                expires_at: 99,
                signature: vec![6; 64],
            }],
            mailboxes: Vec::new(),
        }
    }

    fn legacy(business: Option<&str>) -> LegacyProfile {
        LegacyProfile {
            author: peer(),
            version: 3,
            updated_at: 1_000,
            handle: Handle::parse("bakery").expect("handle"),
            display_name: "Bakery".into(),
            bio: "bread 🍞".into(),
            avatar: None,
            business: business.map(|c| LegacyBusiness { category: c.into() }),
            messaging: Some(keys()),
        }
    }

    fn current(l: &LegacyProfile, faq: Vec<FaqEntry>) -> Profile {
        Profile {
            author: l.author,
            version: l.version,
            updated_at: l.updated_at,
            handle: l.handle.clone(),
            display_name: l.display_name.clone(),
            bio: l.bio.clone(),
            avatar: l.avatar,
            business: l.business.as_ref().map(|b| BusinessInfo {
                category: b.category.clone(),
                faq,
            }),
            messaging: l.messaging.clone(),
        }
    }

    fn entry(q: &str, a: &str) -> FaqEntry {
        FaqEntry {
            question: q.into(),
            answer: a.into(),
        }
    }

    #[test]
    fn old_layout_profiles_decode_with_the_same_signing_bytes() {
        for business in [None, Some("Bakery")] {
            let old = legacy(business);
            let signed = Signed {
                body: old.clone(),
                signature: vec![7; 64],
            };
            let bytes = encode(&signed);
            let read: Signed<Profile> = decode(&bytes, MAX_GOSSIP_BYTES).expect("decodes");
            assert_eq!(read.body, current(&old, Vec::new()));
            // What the old signature covered is what a new node checks it against.
            let old_signing = [
                b"paperplane/record-signature/v1\0".as_slice(),
                b"paperplane/profile/1\0",
                &crate::encoding::encode_body(&old),
            ]
            .concat();
            assert_eq!(Signed::<Profile>::signing_bytes(&read.body), old_signing);
            // And a new node writes a profile without FAQ as the old layout: old nodes read it.
            assert_eq!(encode(&read), bytes);
        }
    }

    #[test]
    fn faq_profiles_round_trip_and_old_decoders_refuse_them() {
        let old = legacy(Some("Bakery"));
        let p = current(&old, vec![entry("Open on Sunday?", "Yes, 8–12 🥐")]);
        let signed = Signed {
            body: p.clone(),
            signature: vec![7; 64],
        };
        let bytes = encode(&signed);
        assert_eq!(
            decode::<Signed<Profile>>(&bytes, MAX_GOSSIP_BYTES),
            Ok(signed)
        );
        assert!(decode::<Signed<LegacyProfile>>(&bytes, MAX_GOSSIP_BYTES).is_err());
        assert_ne!(
            Signed::<Profile>::signing_bytes(&p),
            Signed::<Profile>::signing_bytes(&current(&old, Vec::new())),
            "the FAQ is signed"
        );
    }

    #[test]
    fn an_empty_faq_in_the_faq_layout_is_refused() {
        // Tag 2 with zero entries: a second encoding of a category-only profile.
        let l = legacy(None);
        let layout = BusinessLayout::WithFaq("Bakery".into(), Vec::new());
        let fields = (
            l.author,
            l.version,
            l.updated_at,
            l.handle,
            l.display_name,
            l.bio,
            l.avatar,
        );
        let mut body = crate::encoding::encode_body(&fields);
        body.extend(crate::encoding::encode_body(&layout));
        body.extend(crate::encoding::encode_body(&None::<MessagingKeys>));
        let mut sane = crate::encoding::encode_body(&fields);
        sane.extend(crate::encoding::encode_body(&BusinessLayout::Category(
            "Bakery".into(),
        )));
        sane.extend(crate::encoding::encode_body(&None::<MessagingKeys>));
        assert!(crate::encoding::decode_body::<Profile>(&sane).is_ok());
        assert!(crate::encoding::decode_body::<Profile>(&body).is_err());
    }

    #[test]
    fn faq_limits() {
        assert_eq!(validate(&[]), Ok(()));
        assert_eq!(validate(&[entry("Delivery?", "Within 5 km.")]), Ok(()));
        let many = vec![entry("q", "a"); MAX_FAQ_ENTRIES + 1];
        assert!(matches!(
            validate(&many),
            Err(ValidationError::Count { .. })
        ));
        let long_q = entry(&"é".repeat(MAX_FAQ_QUESTION_CHARS + 1), "a");
        assert!(matches!(
            validate(&[long_q]),
            Err(ValidationError::TooLong {
                field: "FAQ question",
                ..
            })
        ));
        let long_a = entry("q", &"🍞".repeat(MAX_FAQ_ANSWER_CHARS + 1));
        assert!(matches!(
            validate(&[long_a]),
            Err(ValidationError::TooLong {
                field: "FAQ answer",
                ..
            })
        ));
        assert!(matches!(
            validate(&[entry("  ", "a")]),
            Err(ValidationError::Inconsistent(_))
        ));
        let mut p = current(&legacy(Some("Bakery")), vec![entry("q", " ")]);
        assert!(crate::Record::validate(&p, 1_000).is_err());
        p.business = Some(BusinessInfo {
            category: "Bakery".into(),
            faq: vec![entry("q", "a")],
        });
        assert_eq!(crate::Record::validate(&p, 1_000), Ok(()));
    }

    #[test]
    fn the_largest_faq_profile_fits_a_gossip_message() {
        let mut old = legacy(Some(&"🍞".repeat(MAX_CATEGORY_CHARS)));
        old.display_name = "🍞".repeat(MAX_DISPLAY_NAME_CHARS);
        old.bio = "🍞".repeat(MAX_BIO_CHARS);
        let faq = vec![
            entry(
                &"🍞".repeat(MAX_FAQ_QUESTION_CHARS),
                &"🍞".repeat(MAX_FAQ_ANSWER_CHARS)
            );
            MAX_FAQ_ENTRIES
        ];
        let p = current(&old, faq);
        assert_eq!(crate::Record::validate(&p, 1_000), Ok(()));
        let bytes = encode(&Signed {
            body: p,
            signature: vec![7; 64],
        });
        assert!(bytes.len() < MAX_GOSSIP_BYTES, "{} bytes", bytes.len());
    }
}
