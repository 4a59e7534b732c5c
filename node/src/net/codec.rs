//! A request-response codec for length-prefixed frames: a 4-byte big-endian length, then that
//! many bytes. Frames over the configured limits are refused before they are read. The
//! frames' contents are protocol encodings, decoded (and size-checked again) by the actor.
//!
//! Frames are read at a pace ([`super::pace`]): a request from the moment its stream is
//! negotiated, a response from its first byte (the responder may need a while to prepare it;
//! the request timeout bounds that wait). A frame that falls behind fails with
//! [`io::ErrorKind::TimedOut`], and its stream is reset.

use std::io;

use futures::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use libp2p::{request_response, StreamProtocol};
use tokio::time::Instant;

use super::pace::Pace;

/// The buffer a frame's body starts with; it doubles as bytes arrive, so a peer that
/// announces a large frame and sends little makes the node hold little.
const FIRST_CHUNK: usize = 64 * 1024;

/// Length-prefixed frames with separate request and response limits.
#[derive(Clone, Debug)]
pub struct FrameCodec {
    max_request: usize,
    max_response: usize,
}

impl FrameCodec {
    /// A codec accepting requests up to `max_request` and responses up to `max_response` bytes.
    pub fn new(max_request: usize, max_response: usize) -> Self {
        Self {
            max_request,
            max_response,
        }
    }
}

/// When a frame's pace starts.
#[derive(Clone, Copy, Debug)]
enum PaceFrom {
    /// When reading starts (a request: its bytes follow the protocol negotiation).
    Now,
    /// When its first byte arrives (a response).
    FirstByte,
}

/// Reads one frame of at most `max` bytes at the required pace.
async fn read_paced_frame<T: AsyncRead + Unpin + Send>(
    io: &mut T,
    max: usize,
    from: PaceFrom,
) -> io::Result<Vec<u8>> {
    let mut pace = match from {
        PaceFrom::Now => Some(Pace::starting(Instant::now())),
        PaceFrom::FirstByte => None,
    };
    let mut len = [0u8; 4];
    read_exact_paced(io, &mut len, &mut pace).await?;
    let len = u32::from_be_bytes(len) as usize;
    check_len(len, max)?;
    let mut buf = vec![0u8; len.min(FIRST_CHUNK)];
    let mut filled = 0;
    while filled < len {
        if filled == buf.len() {
            buf.resize(buf.len().saturating_mul(2).min(len), 0);
        }
        filled += read_some_paced(io, &mut buf[filled..], &mut pace).await?;
    }
    Ok(buf)
}

/// Fills `buf`, within `pace`.
async fn read_exact_paced<T: AsyncRead + Unpin + Send>(
    io: &mut T,
    buf: &mut [u8],
    pace: &mut Option<Pace>,
) -> io::Result<()> {
    let mut filled = 0;
    while filled < buf.len() {
        filled += read_some_paced(io, &mut buf[filled..], pace).await?;
    }
    Ok(())
}

/// Reads at least one byte into `buf` before `pace`'s deadline (and starts `pace` if it has not
/// started yet); the end of the stream is an error.
async fn read_some_paced<T: AsyncRead + Unpin + Send>(
    io: &mut T,
    buf: &mut [u8],
    pace: &mut Option<Pace>,
) -> io::Result<usize> {
    let read = io.read(buf);
    let n = match pace {
        Some(p) => tokio::time::timeout_at(p.deadline(), read)
            .await
            .map_err(|_| {
                io::Error::new(
                    io::ErrorKind::TimedOut,
                    "the peer sent the frame too slowly",
                )
            })??,
        None => read.await?,
    };
    if n == 0 {
        return Err(io::ErrorKind::UnexpectedEof.into());
    }
    pace.get_or_insert_with(|| Pace::starting(Instant::now()))
        .received(n);
    Ok(n)
}

fn check_len(len: usize, max: usize) -> io::Result<()> {
    if len > max {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("frame of {len} bytes exceeds the limit of {max}"),
        ));
    }
    Ok(())
}

/// Writes one frame, refusing one over `max` bytes.
pub async fn write_frame<T: AsyncWrite + Unpin + Send>(
    io: &mut T,
    bytes: &[u8],
    max: usize,
) -> io::Result<()> {
    if bytes.len() > max {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("frame of {} bytes exceeds the limit of {max}", bytes.len()),
        ));
    }
    let len = u32::try_from(bytes.len())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "frame too large"))?;
    io.write_all(&len.to_be_bytes()).await?;
    io.write_all(bytes).await?;
    io.flush().await
}

impl request_response::Codec for FrameCodec {
    type Protocol = StreamProtocol;
    type Request = Vec<u8>;
    type Response = Vec<u8>;

    async fn read_request<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<Vec<u8>>
    where
        T: AsyncRead + Unpin + Send,
    {
        read_paced_frame(io, self.max_request, PaceFrom::Now).await
    }

    async fn read_response<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<Vec<u8>>
    where
        T: AsyncRead + Unpin + Send,
    {
        read_paced_frame(io, self.max_response, PaceFrom::FirstByte).await
    }

    async fn write_request<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        req: Vec<u8>,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        write_frame(io, &req, self.max_request).await?;
        io.close().await
    }

    async fn write_response<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        res: Vec<u8>,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        write_frame(io, &res, self.max_response).await?;
        io.close().await
    }
}

#[cfg(test)]
mod tests {
    use std::{
        pin::Pin,
        task::{Context, Poll},
        time::Duration,
    };

    use futures::{io::Cursor, Future, FutureExt};
    use request_response::Codec;

    use super::*;
    use crate::net::pace::FRAME_GRACE;

    const P: StreamProtocol = StreamProtocol::new("/test/1");

    /// Hands out `data` one byte every `every`, after waiting `first` for the first one.
    struct Trickle {
        data: Vec<u8>,
        pos: usize,
        every: Duration,
        sleep: Pin<Box<tokio::time::Sleep>>,
    }

    impl Trickle {
        fn new(data: Vec<u8>, first: Duration, every: Duration) -> Self {
            Self {
                data,
                pos: 0,
                every,
                sleep: Box::pin(tokio::time::sleep(first)),
            }
        }
    }

    impl AsyncRead for Trickle {
        fn poll_read(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &mut [u8],
        ) -> Poll<io::Result<usize>> {
            if self.pos == self.data.len() {
                return Poll::Ready(Ok(0));
            }
            futures::ready!(self.sleep.as_mut().poll(cx));
            buf[0] = self.data[self.pos];
            self.pos += 1;
            let next = tokio::time::Instant::now() + self.every;
            self.sleep.as_mut().reset(next);
            Poll::Ready(Ok(1))
        }
    }

    fn frame(body: &[u8]) -> Vec<u8> {
        let mut v = (body.len() as u32).to_be_bytes().to_vec();
        v.extend_from_slice(body);
        v
    }

    #[tokio::test]
    async fn frames_round_trip_and_oversize_is_refused() {
        let mut codec = FrameCodec::new(10, 10);
        let mut buf = Cursor::new(Vec::new());
        write_frame(&mut buf, b"hello", 10).await.expect("write");
        assert!(write_frame(&mut buf, &[0; 11], 10).await.is_err());
        let mut r = Cursor::new(buf.into_inner());
        assert_eq!(
            codec.read_request(&P, &mut r).await.expect("read"),
            b"hello"
        );

        let mut big = Cursor::new([0, 0, 1, 0].to_vec()); // claims 256 bytes
        let err = codec
            .read_request(&P, &mut big)
            .await
            .expect_err("too large");
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        let mut short = Cursor::new([0, 0, 0, 5, 1].to_vec());
        assert!(codec.read_response(&P, &mut short).await.is_err());
    }

    #[tokio::test]
    async fn a_frame_larger_than_the_first_chunk_is_read_whole() {
        let body: Vec<u8> = (0..FIRST_CHUNK * 3 + 7).map(|i| i as u8).collect();
        let mut codec = FrameCodec::new(body.len(), body.len());
        let mut r = Cursor::new(frame(&body));
        assert_eq!(codec.read_request(&P, &mut r).await.expect("read"), body);
    }

    #[tokio::test(start_paused = true)]
    async fn a_trickled_request_is_cut_at_its_deadline_not_when_the_peer_stops() {
        let mut codec = FrameCodec::new(1024, 1024);
        // 100 bytes at 10 a second would take 10 s.
        let mut io = Trickle::new(frame(&[7; 96]), Duration::ZERO, Duration::from_millis(100));
        let start = tokio::time::Instant::now();
        let err = codec.read_request(&P, &mut io).await.expect_err("cut");
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        let took = start.elapsed();
        assert!(
            took >= FRAME_GRACE && took < FRAME_GRACE + Duration::from_millis(100),
            "{took:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_stalled_request_is_cut_at_the_grace() {
        let mut codec = FrameCodec::new(1024, 1024);
        let mut io = Trickle::new(frame(b"hi"), Duration::from_secs(3600), Duration::ZERO);
        let start = tokio::time::Instant::now();
        let err = codec.read_request(&P, &mut io).await.expect_err("cut");
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        assert_eq!(start.elapsed(), FRAME_GRACE);
    }

    #[tokio::test(start_paused = true)]
    async fn a_response_may_start_late_but_must_then_keep_pace() {
        let mut codec = FrameCodec::new(1024, 1024);
        // The responder prepares for longer than the grace, then sends at once.
        let mut io = Trickle::new(frame(b"late"), FRAME_GRACE * 2, Duration::ZERO);
        assert_eq!(
            codec.read_response(&P, &mut io).await.expect("read"),
            b"late"
        );
        // Then trickles: cut one grace after its first byte.
        let mut io = Trickle::new(frame(&[1; 96]), FRAME_GRACE * 2, Duration::from_millis(100));
        let start = tokio::time::Instant::now();
        let err = codec.read_response(&P, &mut io).await.expect_err("cut");
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        let took = start.elapsed();
        assert!(
            took >= FRAME_GRACE * 3 && took < FRAME_GRACE * 3 + Duration::from_millis(100),
            "{took:?}"
        );
        assert!(io.pos < io.data.len(), "cut before the peer stopped");
    }

    #[test]
    fn reading_needs_no_timer_when_the_bytes_are_there() {
        // A frame already buffered completes on its first poll.
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("runtime");
        let _guard = rt.enter();
        let mut codec = FrameCodec::new(16, 16);
        let mut r = Cursor::new(frame(b"ready"));
        let got = codec.read_request(&P, &mut r).now_or_never();
        assert_eq!(got.expect("ready at once").expect("read"), b"ready");
    }
}
