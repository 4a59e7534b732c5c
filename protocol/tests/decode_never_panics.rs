//! Property tests: frames round-trip, and arbitrary bytes never make a decoder panic (they
//! decode or give a typed error).

use paperplane_protocol::{
    decode, encode, limits::MAX_FRAME_BYTES, BlobHash, BlobRequest, BlobResponse, FeedMessage,
    Profile, Signed, SyncRequest, SyncResponse,
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
    }

    #[test]
    fn versioned_arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let mut framed = vec![paperplane_protocol::encoding::VERSION];
        framed.extend(bytes);
        let _ = decode::<FeedMessage>(&framed, MAX_FRAME_BYTES);
        let _ = decode::<Signed<Profile>>(&framed, MAX_FRAME_BYTES);
        let _ = decode::<SyncResponse>(&framed, MAX_FRAME_BYTES);
        let _ = decode::<BlobResponse>(&framed, MAX_FRAME_BYTES);
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
}
