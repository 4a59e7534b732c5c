//! Property tests: frames round-trip, and arbitrary bytes never make a decoder panic (they
//! decode or give a typed error).

use paperplane_protocol::{
    decode, dm::MAX_DM_REQUEST_BYTES, encode, limits::MAX_FRAME_BYTES, BlobHash, BlobRequest,
    BlobResponse, DirectMessage, DmRejection, DmRequest, DmResponse, DmResult, FeedMessage,
    MessageBody, MessageId, PeerId, Profile, SealedEnvelope, Signed, SyncRequest, SyncResponse,
};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = decode::<FeedMessage>(&bytes, MAX_FRAME_BYTES);
        let _ = decode::<Signed<Profile>>(&bytes, MAX_FRAME_BYTES);
        let _ = decode::<SyncRequest>(&bytes, MAX_FRAME_BYTES);
        let _ = decode::<SyncResponse>(&bytes, MAX_FRAME_BYTES);
        let _ = decode::<BlobRequest>(&bytes, MAX_FRAME_BYTES);
        let _ = decode::<BlobResponse>(&bytes, MAX_FRAME_BYTES);
        let _ = decode::<DmRequest>(&bytes, MAX_FRAME_BYTES);
        let _ = decode::<DmResponse>(&bytes, MAX_FRAME_BYTES);
        let _ = DirectMessage::from_plaintext(&bytes, MAX_FRAME_BYTES);
    }

    #[test]
    fn versioned_arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let mut framed = vec![paperplane_protocol::encoding::VERSION];
        framed.extend(bytes);
        let _ = decode::<FeedMessage>(&framed, MAX_FRAME_BYTES);
        let _ = decode::<Signed<Profile>>(&framed, MAX_FRAME_BYTES);
        let _ = decode::<SyncResponse>(&framed, MAX_FRAME_BYTES);
        let _ = decode::<BlobResponse>(&framed, MAX_FRAME_BYTES);
        let _ = decode::<DmRequest>(&framed, MAX_FRAME_BYTES);
        let _ = decode::<DmResponse>(&framed, MAX_FRAME_BYTES);
        let _ = DirectMessage::from_plaintext(&framed, MAX_FRAME_BYTES);
    }

    #[test]
    fn blob_frames_round_trip(
        offset in any::<u64>(),
        hash in any::<[u8; 32]>(),
        data in proptest::collection::vec(any::<u8>(), 0..64),
        total in any::<u64>(),
    ) {
        let req = BlobRequest { hash: BlobHash(hash), offset };
        prop_assert_eq!(decode::<BlobRequest>(&encode(&req), 1024), Ok(req));
        let resp = BlobResponse::Chunk { total_len: total, bytes: data };
        prop_assert_eq!(decode::<BlobResponse>(&encode(&resp), 1024), Ok(resp));
    }

    #[test]
    fn dm_frames_round_trip(
        id in any::<[u8; 16]>(),
        sent_at in any::<u64>(),
        text in ".{0,64}",
        payloads in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..64), 0..4),
        results in proptest::collection::vec(dm_result(), 0..8),
    ) {
        let message = DirectMessage { id: MessageId(id), sent_at, body: MessageBody::Text(text) };
        prop_assert_eq!(DirectMessage::from_plaintext(&message.to_plaintext(), MAX_FRAME_BYTES), Ok(message));
        let request = DmRequest {
            envelopes: payloads
                .into_iter()
                .map(|payload| SealedEnvelope { recipient: peer(), id: MessageId(id), payload })
                .collect(),
        };
        prop_assert_eq!(decode::<DmRequest>(&encode(&request), MAX_DM_REQUEST_BYTES), Ok(request));
        let response = DmResponse { results };
        prop_assert_eq!(decode::<DmResponse>(&encode(&response), MAX_FRAME_BYTES), Ok(response));
    }
}

fn peer() -> PeerId {
    libp2p_identity::Keypair::ed25519_from_bytes([7u8; 32])
        .expect("valid seed")
        .public()
        .to_peer_id()
}

fn dm_result() -> impl Strategy<Value = DmResult> {
    use DmRejection::*;
    prop_oneof![
        Just(DmResult::Stored),
        Just(DmResult::Duplicate),
        proptest::sample::select(vec![
            Blocked,
            Malformed,
            TooLarge,
            NotForMe,
            Undecryptable,
            RateLimited,
            Unavailable,
        ])
        .prop_map(DmResult::Rejected),
    ]
}
