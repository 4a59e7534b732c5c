//! The user's own profile (first version, updates) and resolving references to peers and
//! records typed by people.

use paperplane_protocol::{
    BusinessInfo, FaqEntry, Handle, MessagingKeys, PeerId, PhotoRef, Profile, Record, RecordId,
};

use crate::{
    error::{Error, IdKind, Result},
    store::{Store, StoreError},
};

/// Changes to the user's own profile; `None` leaves a field as it is.
#[derive(Clone, Debug, Default)]
pub struct ProfileUpdate {
    /// New display name.
    pub display_name: Option<String>,
    /// New bio.
    pub bio: Option<String>,
    /// New profile photo (image bytes).
    pub avatar: Option<Vec<u8>>,
    /// `Some(Some(category))` makes this a business account, `Some(None)` a personal one.
    pub business: Option<Option<String>>,
    /// New frequently asked questions (business accounts only; empty to remove them).
    pub faq: Option<Vec<FaqEntry>>,
}

/// The first profile of a new identity.
pub fn initial(me: PeerId, handle: Handle, display_name: &str, now: u64) -> Result<Profile> {
    let p = Profile {
        author: me,
        version: 1,
        updated_at: now,
        handle,
        display_name: display_name.to_owned(),
        bio: String::new(),
        avatar: None,
        business: None,
        messaging: None,
    };
    p.validate(now)?;
    Ok(p)
}

/// The next version of `current` with `update` applied (the avatar already hashed into
/// `avatar`). Validated.
pub fn updated(
    current: &Profile,
    update: &ProfileUpdate,
    avatar: Option<PhotoRef>,
    now: u64,
) -> Result<Profile> {
    let mut p = current.clone();
    p.version += 1;
    p.updated_at = now.max(current.updated_at + 1);
    if let Some(name) = &update.display_name {
        p.display_name = name.clone();
    }
    if let Some(bio) = &update.bio {
        p.bio = bio.clone();
    }
    if avatar.is_some() {
        p.avatar = avatar;
    }
    if let Some(business) = &update.business {
        // A new category keeps the FAQ; becoming a personal account drops it.
        let faq = p.business.take().map(|b| b.faq).unwrap_or_default();
        p.business = business.as_ref().map(|c| BusinessInfo {
            category: c.clone(),
            faq,
        });
    }
    if let Some(faq) = &update.faq {
        match &mut p.business {
            Some(b) => b.faq = faq.clone(),
            None if faq.is_empty() => {}
            None => return Err(crate::business::BusinessError::NotABusiness.into()),
        }
    }
    p.validate(now)?;
    Ok(p)
}

/// The next version of `current` carrying `keys` for end-to-end messaging. Validated.
pub fn with_messaging_keys(current: &Profile, keys: MessagingKeys, now: u64) -> Result<Profile> {
    let mut p = current.clone();
    p.version += 1;
    p.updated_at = now.max(current.updated_at + 1);
    p.messaging = Some(keys);
    p.validate(now)?;
    Ok(p)
}

/// A fingerprint of a peer id for people: its last 16 characters (every ed25519 id starts
/// with the same `12D3KooW`). Sixteen base-58 characters are about 94 bits: not something
/// one can grind a look-alike identity for.
pub fn fingerprint(peer: &PeerId) -> String {
    let s = peer.to_string();
    s[s.len().saturating_sub(16)..].to_owned()
}

/// Resolves a peer id, `@handle` or bare handle among known profiles. Handles are not unique
/// (anyone can claim any): when several known peers have it, the one the user `me` follows
/// or already has a conversation with is meant, if exactly one is; otherwise the handle is
/// ambiguous and the candidates are listed with their fingerprints.
pub fn resolve(store: &Store, me: &PeerId, reference: &str) -> Result<PeerId> {
    let reference = reference.trim();
    if !reference.starts_with('@') {
        if let Ok(peer) = reference.parse::<PeerId>() {
            // Only an id with an ed25519 key can be anyone on this network.
            return match paperplane_crypto::public_key_of(&peer) {
                Ok(_) => Ok(peer),
                Err(_) => Err(Error::NotAPeerReference(reference.to_owned())),
            };
        }
    }
    let handle =
        Handle::parse(reference).map_err(|_| Error::NotAPeerReference(reference.to_owned()))?;
    let peers = store.peers_with_handle(&handle)?;
    match peers.as_slice() {
        [] => Err(Error::UnknownPeer(handle.to_string())),
        [one] => Ok(*one),
        many => {
            let mut known = Vec::new();
            for p in many {
                if store.follows(me, p)? || store.chat(p)?.is_some() {
                    known.push(*p);
                }
            }
            match known.as_slice() {
                [one] => Ok(*one),
                _ => Err(Error::AmbiguousHandle {
                    handle: handle.to_string(),
                    candidates: many.iter().map(|p| (*p, fingerprint(p))).collect(),
                }),
            }
        }
    }
}

/// Resolves a record id from its full hex form or a unique prefix of at least 6 hex digits.
pub fn resolve_id(
    reference: &str,
    kind: IdKind,
    by_prefix: impl Fn(&str) -> std::result::Result<Vec<RecordId>, StoreError>,
) -> Result<RecordId> {
    let r = reference.trim().to_ascii_lowercase();
    if r.len() < 6 || r.len() > 64 || !r.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(Error::NotAnId {
            reference: reference.to_owned(),
            kind,
        });
    }
    let ids = by_prefix(&r)?;
    match ids.as_slice() {
        [] => Err(Error::NoSuch { kind, id: r }),
        [one] => Ok(*one),
        _ => Err(Error::AmbiguousId { prefix: r, kind }),
    }
}
