//! Known-answer tests: the primitives paperplane relies on (RFC 7748, RFC 8439, the XChaCha
//! draft, RFC 5869 and Wycheproof cases, typed in as hex), and frozen vectors of paperplane's
//! own handshake and first ratchet steps from a seeded RNG. RFC 8032 is in `identity.rs`.

use chacha20::ChaCha20Rng;
use chacha20poly1305::{
    aead::{Aead, Payload},
    ChaCha20Poly1305, KeyInit, Nonce, XChaCha20Poly1305, XNonce,
};
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use hkdf::Hkdf;
use paperplane_crypto::{
    identity::verify_labelled, is_low_order, Conversation, Envelope, Identity, MessagingIdentity,
    PrekeyStore,
};
use rand_core::SeedableRng;
use sha2::Sha256;
use x25519_dalek::{x25519, PublicKey, StaticSecret};

fn h(s: &str) -> Vec<u8> {
    hex::decode(s).expect("valid hex")
}

fn h32(s: &str) -> [u8; 32] {
    h(s).try_into().expect("32 bytes")
}

// ---------------------------------------------------------------- RFC 7748 (X25519)

#[test]
fn rfc7748_section_5_2_vectors() {
    let cases = [
        (
            "a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
            "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
            "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552",
        ),
        (
            "4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
            "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493",
            "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957",
        ),
    ];
    for (k, u, out) in cases {
        assert_eq!(x25519(h32(k), h32(u)), h32(out));
    }
}

#[test]
fn rfc7748_section_5_2_iterated() {
    let mut k = h32("0900000000000000000000000000000000000000000000000000000000000000");
    let mut u = k;
    for i in 1..=1_000 {
        let next = x25519(k, u);
        u = k;
        k = next;
        if i == 1 {
            assert_eq!(
                k,
                h32("422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079")
            );
        }
    }
    assert_eq!(
        k,
        h32("684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51")
    );
}

#[test]
fn rfc7748_section_6_1_diffie_hellman() {
    let a = StaticSecret::from(h32(
        "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a",
    ));
    let b = StaticSecret::from(h32(
        "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb",
    ));
    let (pa, pb) = (PublicKey::from(&a), PublicKey::from(&b));
    assert_eq!(
        pa.to_bytes(),
        h32("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a")
    );
    assert_eq!(
        pb.to_bytes(),
        h32("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f")
    );
    let k = h32("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
    assert_eq!(a.diffie_hellman(&pb).to_bytes(), k);
    assert_eq!(b.diffie_hellman(&pa).to_bytes(), k);
}

// ------------------------------------------------------- Wycheproof x25519_test.json

#[test]
fn wycheproof_x25519_valid_cases() {
    // (tcId, private, public, shared)
    let cases = [
        (
            1,
            "c8a9d5a91091ad851c668b0736c1c9a02936c0d3ad62670858088047ba057475",
            "504a36999f489cd2fdbc08baff3d88fa00569ba986cba22548ffde80f9806829",
            "436a2c040cf45fea9b29a0cb81b1f41458f863d0d61b453d0a982720d6d61320",
        ),
        (
            2,
            "d85d8c061a50804ac488ad774ac716c3f5ba714b2712e048491379a500211958",
            "63aa40c6e38346c5caf23a6df0a5e6c80889a08647e551b3563449befcfc9733",
            "279df67a7c4611db4708a0e8282b195e5ac0ed6f4b2f292c6fbd0acac30d1332",
        ),
        (
            33,
            "a8386f7f16c50731d64f82e6a170b142a4e34f31fd7768fcb8902925e7d1e25a",
            "0400000000000000000000000000000000000000000000000000000000000000",
            "34b7e4fa53264420d9f943d15513902342b386b172a0b0b7c8b8f2dd3d669f59",
        ),
    ];
    for (id, private, public, shared) in cases {
        let s = StaticSecret::from(h32(private)).diffie_hellman(&PublicKey::from(h32(public)));
        assert_eq!(s.to_bytes(), h32(shared), "tcId {id}");
        assert!(s.was_contributory(), "tcId {id}");
        assert!(!is_low_order(&h32(public)), "tcId {id}");
    }
}

#[test]
fn wycheproof_x25519_low_order_public_keys_are_non_contributory() {
    // (tcId, private, public): flags LowOrderPublic + ZeroSharedSecret, some NonCanonicalPublic.
    let cases = [
        (
            31,
            "88227494038f2bb811d47805bcdf04a2ac585ada7f2f23389bfd4658f9ddd45e",
            "0000000000000000000000000000000000000000000000000000000000000000",
        ),
        (
            32,
            "48232e8972b61c7e61930eb9450b5070eae1c670475685541f0476217e48184f",
            "0100000000000000000000000000000000000000000000000000000000000000",
        ),
        (
            61,
            "e0f978dfcd3a8f1a5093418de54136a584c20b7b349afdf6c0520886f95b1272",
            "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
        ),
        (
            62,
            "387355d995616090503aafad49da01fb3dc3eda962704eaee6b86f9e20c92579",
            "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
        ),
        (
            63,
            "c8fe0df92ae68a03023fc0c9adb9557d31be7feed0d3ab36c558143daf4dbb40",
            "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        ),
        (
            64,
            "c8d74acde5934e64b9895d5ff7afbffd7f704f7dfccff7ac28fa62a1e6410347",
            "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b880",
        ),
        (
            65,
            "b85649d5120e01e8ccaf7b2fb8d81b62e8ad6f3d5c0553fdde1906cb9d79c050",
            "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f11d7",
        ),
        (
            66,
            "2064b2f4c9dc97ec7cf58932fdfa3265ba6ea4d11f0259b8efc8afb35db88c48",
            "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
        ),
        (
            67,
            "786a33a4f7af297a20e7642925932bf509e7070fa1bc36986af1eb13f4f50b55",
            "0000000000000000000000000000000000000000000000000000000000000000",
        ),
        (
            68,
            "786a33a4f7af297a20e7642925932bf509e7070fa1bc36986af1eb13f4f50b55",
            "0100000000000000000000000000000000000000000000000000000000000000",
        ),
    ];
    for (id, private, public) in cases {
        let s = StaticSecret::from(h32(private)).diffie_hellman(&PublicKey::from(h32(public)));
        assert_eq!(s.to_bytes(), [0; 32], "tcId {id}");
        assert!(!s.was_contributory(), "tcId {id}");
        assert!(is_low_order(&h32(public)), "tcId {id}");
    }
}

// ------------------------------------------------------- RFC 8439 and XChaCha draft

const SUNSCREEN: &[u8] =
    b"Ladies and Gentlemen of the class of '99: If I could offer you only one \
tip for the future, sunscreen would be it.";

#[test]
fn rfc8439_section_2_8_2_aead() {
    let key = h("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f");
    let nonce: [u8; 12] = h("070000004041424344454647").try_into().expect("12 bytes");
    let aad = h("50515253c0c1c2c3c4c5c6c7");
    let expected = h(concat!(
        "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6",
        "3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36",
        "92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc",
        "3ff4def08e4b7a9de576d26586cec64b6116",
        "1ae10b594f09e26a7e902ecbd0600691",
    ));
    let cipher = ChaCha20Poly1305::new_from_slice(&key).expect("32-byte key");
    let sealed = cipher
        .encrypt(
            &Nonce::from(nonce),
            Payload {
                msg: SUNSCREEN,
                aad: &aad,
            },
        )
        .expect("encrypts");
    assert_eq!(sealed, expected);
    let opened = cipher
        .decrypt(
            &Nonce::from(nonce),
            Payload {
                msg: &sealed,
                aad: &aad,
            },
        )
        .expect("decrypts");
    assert_eq!(opened, SUNSCREEN);
}

#[test]
fn xchacha20poly1305_draft_a_3_1() {
    let key = h("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f");
    let nonce: [u8; 24] = h("404142434445464748494a4b4c4d4e4f5051525354555657")
        .try_into()
        .expect("24 bytes");
    let aad = h("50515253c0c1c2c3c4c5c6c7");
    let expected = h(concat!(
        "bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb",
        "731c7f1b0b4aa6440bf3a82f4eda7e39ae64c6708c54c216cb96b72e1213b452",
        "2f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc369488f76b2383565d3fff9",
        "21f9664c97637da9768812f615c68b13b52e",
        "c0875924c1c7987947deafd8780acf49",
    ));
    let cipher = XChaCha20Poly1305::new_from_slice(&key).expect("32-byte key");
    let sealed = cipher
        .encrypt(
            &XNonce::from(nonce),
            Payload {
                msg: SUNSCREEN,
                aad: &aad,
            },
        )
        .expect("encrypts");
    assert_eq!(sealed, expected);
}

// ------------------------------------------------ Wycheproof chacha20_poly1305_test.json

#[test]
fn wycheproof_chacha20_poly1305_valid_and_modified_tags() {
    // (tcId, key, iv, aad, msg, ct, tag): valid cases.
    let valid = [
        (
            2,
            "80ba3192c803ce965ea371d5ff073cf0f43b6a2ab576b208426e11409c09b9b0",
            "4da5bf8dfd5852c1ea12379d",
            "",
            "",
            "",
            "76acb342cf3166a5b63c0c0ea1383c8d",
        ),
        (
            4,
            "cc56b680552eb75008f5484b4cb803fa5063ebd6eab91f6ab6aef4916a766273",
            "99e23ec48985bccdeeab60f1",
            "",
            "2a",
            "3a",
            "cac27dec0968801e9f6eded69d807522",
        ),
        (
            5,
            "46f0254965f769d52bdb4a70b443199f8ef207520d1220c55e4b70f0fda620ee",
            "ab0dca716ee051d2782f4403",
            "91ca6c592cbcca53",
            "51",
            "c4",
            "168310ca45b1f7c66cad4e99e43f72b9",
        ),
        (
            // The reference of the "modified tag" group (expected tag a3e3…).
            0,
            "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
            "000102030405060708090a0b",
            "616164",
            "",
            "",
            "a3e3fdf9fba6861b5ad2607f40b7f447",
        ),
    ];
    for (id, key, iv, aad, msg, ct, tag) in valid {
        let cipher = ChaCha20Poly1305::new_from_slice(&h(key)).expect("32-byte key");
        let nonce = Nonce::from(<[u8; 12]>::try_from(h(iv)).expect("12 bytes"));
        let mut sealed = h(ct);
        sealed.extend(h(tag));
        let aad = h(aad);
        let out = cipher.encrypt(
            &nonce,
            Payload {
                msg: &h(msg),
                aad: &aad,
            },
        );
        assert_eq!(out.as_ref(), Ok(&sealed), "tcId {id}");
        let opened = cipher.decrypt(
            &nonce,
            Payload {
                msg: &sealed,
                aad: &aad,
            },
        );
        assert_eq!(opened, Ok(h(msg)), "tcId {id}");
        // Wycheproof's ModifiedTag cases: any flipped tag bit must be rejected.
        for bit in [
            0usize, 1, 7, 8, 31, 32, 63, 64, 77, 80, 96, 97, 120, 121, 126, 127,
        ] {
            let mut bad = sealed.clone();
            let at = bad.len() - 16 + bit / 8;
            bad[at] ^= 1 << (bit % 8);
            let res = cipher.decrypt(
                &nonce,
                Payload {
                    msg: &bad,
                    aad: &aad,
                },
            );
            assert!(res.is_err(), "tcId {id} flipped tag bit {bit}");
        }
        let mut zero = sealed.clone();
        let n = zero.len();
        zero[n - 16..].fill(0);
        assert!(cipher
            .decrypt(
                &nonce,
                Payload {
                    msg: &zero,
                    aad: &aad
                }
            )
            .is_err());
    }
    // tcId 62 and 63 as published: bits 0 and 1 of the tag flipped.
    let cipher = ChaCha20Poly1305::new_from_slice(&h(
        "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
    ))
    .expect("32-byte key");
    let nonce = Nonce::from(<[u8; 12]>::try_from(h("000102030405060708090a0b")).expect("12"));
    for tag in [
        "a2e3fdf9fba6861b5ad2607f40b7f447",
        "a1e3fdf9fba6861b5ad2607f40b7f447",
    ] {
        let res = cipher.decrypt(
            &nonce,
            Payload {
                msg: &h(tag),
                aad: b"aad",
            },
        );
        assert!(res.is_err());
    }
}

// ----------------------------------------------------------------- RFC 5869 (HKDF)

/// (ikm, salt, info, prk, okm)
type HkdfCase = (Vec<u8>, Vec<u8>, Vec<u8>, &'static str, &'static str);

#[test]
fn rfc5869_hkdf_sha256_test_cases_1_to_3() {
    let ikm_2: Vec<u8> = (0x00..=0x4f).collect();
    let salt_2: Vec<u8> = (0x60..=0xaf).collect();
    let info_2: Vec<u8> = (0xb0..=0xff).collect();
    let cases: [HkdfCase; 3] = [
        (
            vec![0x0b; 22],
            h("000102030405060708090a0b0c"),
            h("f0f1f2f3f4f5f6f7f8f9"),
            "077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5",
            "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865",
        ),
        (
            ikm_2,
            salt_2,
            info_2,
            "06a6b88c5853361a06104c9ceb35b45cef760014904671014a193f40c15fc244",
            concat!(
                "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c",
                "59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71",
                "cc30c58179ec3e87c14c01d5c1f3434f1d87",
            ),
        ),
        (
            vec![0x0b; 22],
            Vec::new(),
            Vec::new(),
            "19ef24a32c717b167f33a91d6f648bdf96596776afdb6377ac434c1c293ccb04",
            "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8",
        ),
    ];
    for (i, (ikm, salt, info, prk, okm)) in cases.into_iter().enumerate() {
        let (got_prk, hk) = Hkdf::<Sha256>::extract(Some(&salt), &ikm);
        assert_eq!(hex::encode(got_prk), prk, "case {}", i + 1);
        let mut out = vec![0u8; okm.len() / 2];
        hk.expand(&info, &mut out).expect("valid length");
        assert_eq!(hex::encode(out), okm, "case {}", i + 1);
    }
}

// ------------------------------------------------------ Wycheproof-style ed25519 cases

/// The ed25519 group order L, little-endian.
const L: &str = "edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010";

fn add_l(s: &[u8]) -> Vec<u8> {
    let l = h(L);
    let mut out = vec![0u8; 32];
    let mut carry = 0u16;
    for i in 0..32 {
        let sum = u16::from(s[i]) + u16::from(l[i]) + carry;
        out[i] = (sum & 0xff) as u8;
        carry = sum >> 8;
    }
    out
}

#[test]
fn ed25519_non_canonical_s_and_small_order_keys_are_rejected_by_verify_strict() {
    // RFC 8032 test 1, then its S replaced by S + L (Wycheproof: "checking malleability").
    let key = SigningKey::from_bytes(&h32(
        "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
    ));
    let sig = key.sign(b"").to_bytes();
    let vk = key.verifying_key();
    assert!(vk.verify_strict(b"", &Signature::from_bytes(&sig)).is_ok());
    let mut malleated = sig;
    malleated[32..].copy_from_slice(&add_l(&sig[32..]));
    assert_ne!(malleated, sig);
    assert!(vk
        .verify_strict(b"", &Signature::from_bytes(&malleated))
        .is_err());

    // Small-order public key (the identity) with R = identity, S = 0: satisfies the
    // cofactorless equation for every message; verify_strict refuses the weak key.
    let identity = h32("0100000000000000000000000000000000000000000000000000000000000000");
    let weak = VerifyingKey::from_bytes(&identity).expect("decodes");
    let mut forged = [0u8; 64];
    forged[..32].copy_from_slice(&identity);
    assert!(weak.is_weak());
    assert!(weak
        .verify_strict(b"any message", &Signature::from_bytes(&forged))
        .is_err());

    // The same malleation through paperplane's labelled signatures.
    let me = Identity::from_seed([4; 32]);
    let label = "paperplane/test/1";
    let good = me.sign_labelled(label, b"bytes");
    assert_eq!(
        verify_labelled(&me.peer_id(), label, b"bytes", &good),
        Ok(())
    );
    let mut bad = good;
    bad[32..].copy_from_slice(&add_l(&good[32..]));
    assert!(verify_labelled(&me.peer_id(), label, b"bytes", &bad).is_err());
}

// ------------------------------------------------------ paperplane's own frozen vectors

/// Alice starts a session with Bob, sends one message, Bob replies (his first DH ratchet
/// turn) and Alice answers (hers). Every key and nonce comes from one seeded ChaCha20 RNG,
/// so the envelopes are frozen: a change to the handshake, the KDFs, the associated data or
/// the encoding shows up here.
#[test]
fn frozen_handshake_and_first_ratchet_steps() {
    let mut rng = ChaCha20Rng::from_seed([0x5e; 32]);
    let now = 1_700_000_000_000;
    let (alice_id, bob_id) = (
        Identity::from_seed([0xa1; 32]),
        Identity::from_seed([0xb0; 32]),
    );
    let alice_ik = MessagingIdentity::generate(&alice_id, &mut rng);
    let bob_ik = MessagingIdentity::generate(&bob_id, &mut rng);
    let alice_prekeys = PrekeyStore::new(&mut rng, now);
    let bob_prekeys = PrekeyStore::new(&mut rng, now);
    let bob_keys = bob_prekeys.messaging_keys(&bob_id, &bob_ik);

    let alice = Conversation::new(bob_id.peer_id())
        .start(&mut rng, &alice_ik, &bob_keys, now)
        .expect("starts");
    let (alice, e1) = alice.encrypt(&mut rng, b"hello bob").expect("seals");
    let bob = Conversation::new(alice_id.peer_id());
    let (bob, p1) = bob.decrypt(&bob_ik, &bob_prekeys, &e1).expect("opens");
    let (bob, e2) = bob.encrypt(&mut rng, b"hello alice").expect("seals");
    let (alice, p2) = alice
        .decrypt(&alice_ik, &alice_prekeys, &e2)
        .expect("opens");
    let (_alice, e3) = alice.encrypt(&mut rng, b"how are you?").expect("seals");
    let (_bob, p3) = bob.decrypt(&bob_ik, &bob_prekeys, &e3).expect("opens");
    assert_eq!(
        (p1, p2, p3),
        (
            b"hello bob".to_vec(),
            b"hello alice".to_vec(),
            b"how are you?".to_vec()
        )
    );
    assert!(e1.handshake.is_some() && e2.handshake.is_none() && e3.handshake.is_none());

    let frozen = [
        (&e1, "016f719d5c9e694393d61cc8806dbf3eac011d90acdbb1cca7ba942c06a59d9d7be899191295deb0f171bd0112233118d0744030bfe0aab763b40bba6db410a8e2af31b6547e94b413870624e37551de724702933cd2a36a3ecbbb87940c7e51af9614985575c1e1219c9a2470bd3b5afeab0b965b0cce2b016295831d59a8d5382bd6834f2dbaca93c44c0fbbffba9ded6140fc05abfe46cd3b694559725963d644388ca8987a5d1128ccc7e4de25b585b164d452f537380000d0e8b0f0f5102486a6391941cb68b8ea3035fc9b7785b10c1918f77a4f4bd5e1b436eaae74d25226caccc9c4daa801f16cc2"),
        (&e2, "016f719d5c9e694393d61cc8806dbf3eac00a453f5cf9e9554daf470b0d283357b0f70a4e6f1ee230cd662327f220a992e290000044cd12bf5b7ee05592260f896dd4a29045327f28f57a9571b3abaa0672d0ad2fc60de53d38846ee435f14347f4ba9a80d104b22"),
        (&e3, "016f719d5c9e694393d61cc8806dbf3eac00ce5ede1b1cdd6128300f27a85ef1efb8c1b3033a00b2f7ebdc7a1313077ade2e01003f745505fd91963bdf0786983017bff939db71f2e9259f3d1cf809a76ba5e5e5900082b67658d286c1d76e926163c2bdfc1af3dbcb"),
    ];
    for (i, (envelope, hex_bytes)) in frozen.into_iter().enumerate() {
        let bytes = envelope.to_bytes();
        assert_eq!(hex::encode(&bytes), hex_bytes, "envelope {}", i + 1);
        assert_eq!(&Envelope::from_bytes(&bytes).expect("decodes"), envelope);
    }
    // The session id both sides derive: a public hash of the handshake.
    assert_eq!(
        e1.session_id.to_string(),
        "6f719d5c9e694393d61cc8806dbf3eac"
    );
}
