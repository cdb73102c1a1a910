//! Each request's head checked before actix-http reads it, so that a malformed request is answered in the envelope.
//!
//! actix-http answers a request it cannot parse itself — an over-long URI, `Content-Length` with
//! `Transfer-Encoding`, a request target that is not ASCII, a head over its buffer, a head that does not arrive in
//! time — with a 400, 431 or 408 and an empty body, before any application code runs, and offers no hook to
//! change that. [`Checked`] sits between the socket and actix-http: it lets the bytes of a request through once
//! its head is complete and sound, follows the body's framing (its length, or its chunks) to find the next head,
//! and on a bad or late head lets nothing more through: actix-http finishes the requests before it and closes the
//! connection, and the answer in the envelope is written then ([`Checked::poll_shutdown`]).

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use actix_web::http::StatusCode;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// The longest request line (method, target, version): the URI limit (414 past it).
const MAX_REQUEST_LINE: usize = 8 * 1024;
/// The largest head, request line included (431 past it); well under actix-http's own 128 KiB.
const MAX_HEAD: usize = 32 * 1024;
/// The most header fields (431 past it); actix-http's own limit is 96.
const MAX_FIELDS: usize = 64;
/// The longest chunk-size line of a chunked body.
const MAX_CHUNK_LINE: usize = 1024;

/// Where in the request stream the next bytes are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Frame {
    /// A request head (or the empty lines allowed before one).
    Head,
    /// This many body bytes.
    Body(u64),
    /// A chunked body: the next chunk-size line.
    ChunkSize,
    /// This many bytes of a chunk, then its CRLF.
    Chunk(u64),
    /// The CRLF after a chunk's data.
    ChunkEnd,
    /// The trailer fields after the last chunk, up to an empty line.
    Trailers,
    /// A body whose framing cannot be followed (a malformed chunk): everything passes; actix-http fails the
    /// request and closes the connection.
    Unchecked,
}

/// What a head said, or why it is refused.
#[derive(Debug, PartialEq, Eq)]
enum Verdict {
    /// Complete and sound, `length` bytes long, followed by this framing.
    Sound { length: usize, next: Frame },
    /// Not complete yet.
    Partial,
    /// Refused with this status and message.
    Refused(StatusCode, &'static str),
}

/// Checks the head at the start of `bytes`.
fn check_head(bytes: &[u8]) -> Verdict {
    let line_end = bytes.windows(2).position(|w| w == b"\r\n");
    if line_end.map_or(bytes.len(), |end| end) > MAX_REQUEST_LINE {
        return Verdict::Refused(StatusCode::URI_TOO_LONG, "The request URI is longer than 8 KiB.");
    }
    let Some(end) = bytes.windows(4).position(|w| w == b"\r\n\r\n") else {
        return if bytes.len() > MAX_HEAD {
            Verdict::Refused(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE, "The request head is larger than 32 KiB.")
        } else {
            Verdict::Partial
        };
    };
    let length = end + 4;
    if length > MAX_HEAD {
        return Verdict::Refused(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "The request head is larger than 32 KiB.",
        );
    }
    if !bytes[..end].split(|b| *b == b'\n').next().is_some_and(<[u8]>::is_ascii) {
        return Verdict::Refused(StatusCode::BAD_REQUEST, NOT_ASCII);
    }
    let mut fields = [httparse::EMPTY_HEADER; MAX_FIELDS];
    let mut request = httparse::Request::new(&mut fields);
    match request.parse(&bytes[..length]) {
        Ok(httparse::Status::Complete(_)) => {}
        Ok(httparse::Status::Partial) => return Verdict::Refused(StatusCode::BAD_REQUEST, MALFORMED),
        Err(httparse::Error::TooManyHeaders) => {
            return Verdict::Refused(
                StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
                "The request has over 64 header fields.",
            );
        }
        Err(_) => return Verdict::Refused(StatusCode::BAD_REQUEST, MALFORMED),
    }
    if !request.path.is_some_and(|target| target.bytes().all(|b| b.is_ascii_graphic())) {
        return Verdict::Refused(StatusCode::BAD_REQUEST, NOT_ASCII);
    }
    match body_framing(request.headers) {
        Ok(next) => Verdict::Sound { length, next },
        Err(message) => Verdict::Refused(StatusCode::BAD_REQUEST, message),
    }
}

const MALFORMED: &str = "The request is not well-formed HTTP/1.1.";
const NOT_ASCII: &str = "The request target must be ASCII: percent-encode any other byte.";

/// How the body after a head is framed (RFC 9112 §6): chunked, a length, or none; a message that could be read two
/// ways is refused.
fn body_framing(fields: &[httparse::Header<'_>]) -> Result<Frame, &'static str> {
    let named = |name: &'static str| -> Vec<&[u8]> {
        fields.iter().filter(|f| f.name.eq_ignore_ascii_case(name)).map(|f| f.value).collect()
    };
    let (encodings, lengths) = (named("transfer-encoding"), named("content-length"));
    if !encodings.is_empty() {
        if !lengths.is_empty() {
            return Err("Content-Length and Transfer-Encoding must not both be sent.");
        }
        let chunked = encodings.len() == 1 && encodings[0].trim_ascii().eq_ignore_ascii_case(b"chunked");
        return if chunked { Ok(Frame::ChunkSize) } else { Err("The only Transfer-Encoding accepted is chunked.") };
    }
    let Some(first) = lengths.first() else { return Ok(Frame::Head) };
    let length = std::str::from_utf8(first.trim_ascii()).ok().filter(|l| l.bytes().all(|b| b.is_ascii_digit()));
    match length.and_then(|l| l.parse::<u64>().ok()) {
        Some(n) if lengths.iter().all(|other| other.trim_ascii() == first.trim_ascii()) => {
            Ok(if n == 0 { Frame::Head } else { Frame::Body(n) })
        }
        _ => Err("Content-Length must be one whole number."),
    }
}

/// The socket of one connection, checked request by request (see the module).
pub struct Checked<T> {
    io: T,
    /// Bytes read from the socket: `inbox[..released]` may go to actix-http, the rest is being checked.
    inbox: Vec<u8>,
    released: usize,
    frame: Frame,
    /// Whether a request has been let through yet (the head timeout covers the first one, or one begun).
    served: bool,
    /// How long a head may take to arrive.
    head_timeout: Duration,
    head_deadline: Option<Pin<Box<tokio::time::Sleep>>>,
    /// The answer to a refused head, and how much of it is written.
    refusal: Option<(Vec<u8>, usize)>,
}

impl<T> std::fmt::Debug for Checked<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Checked").field("frame", &self.frame).field("refused", &self.refusal.is_some()).finish()
    }
}

impl<T> Checked<T> {
    /// `io`, checked; a head that has not fully arrived `head_timeout` after it began (or after the connection
    /// opened, for the first) is answered 408.
    pub fn new(io: T, head_timeout: Duration) -> Self {
        Self {
            io,
            inbox: Vec::new(),
            released: 0,
            frame: Frame::Head,
            served: false,
            head_timeout,
            head_deadline: None,
            refusal: None,
        }
    }

    fn refuse(&mut self, status: StatusCode, message: &str) {
        self.inbox.truncate(self.released);
        self.refusal = Some((crate::envelope::raw_error(status, message, &[]), 0));
    }

    /// Moves `released` over every byte whose place in the stream is known and sound.
    fn advance(&mut self) {
        while self.refusal.is_none() && self.released < self.inbox.len() {
            let rest = &self.inbox[self.released..];
            let (taken, next) = match self.frame {
                Frame::Head if rest.starts_with(b"\r\n") => (2, Frame::Head),
                Frame::Head if rest == b"\r" => return,
                Frame::Head => match check_head(rest) {
                    Verdict::Sound { length, next } => {
                        self.served = true;
                        self.head_deadline = None;
                        (length, next)
                    }
                    Verdict::Partial => return,
                    Verdict::Refused(status, message) => return self.refuse(status, message),
                },
                Frame::Body(n) | Frame::Chunk(n) => {
                    let taken = rest.len().min(usize::try_from(n).unwrap_or(usize::MAX));
                    let left = n - taken as u64;
                    let next = match (self.frame, left) {
                        (Frame::Body(_), 0) => Frame::Head,
                        (Frame::Body(_), _) => Frame::Body(left),
                        (_, 0) => Frame::ChunkEnd,
                        _ => Frame::Chunk(left),
                    };
                    (taken, next)
                }
                Frame::ChunkSize => match rest.windows(2).position(|w| w == b"\r\n") {
                    Some(end) => match chunk_size(&rest[..end]) {
                        Some(0) => (end + 2, Frame::Trailers),
                        Some(size) => (end + 2, Frame::Chunk(size)),
                        None => (rest.len(), Frame::Unchecked),
                    },
                    None if rest.len() > MAX_CHUNK_LINE => (rest.len(), Frame::Unchecked),
                    None => return,
                },
                Frame::ChunkEnd if rest.len() < 2 => return,
                Frame::ChunkEnd if rest.starts_with(b"\r\n") => (2, Frame::ChunkSize),
                Frame::ChunkEnd => (rest.len(), Frame::Unchecked),
                Frame::Trailers => match rest.windows(2).position(|w| w == b"\r\n") {
                    Some(0) => (2, Frame::Head),
                    Some(end) => (end + 2, Frame::Trailers),
                    None if rest.len() > MAX_HEAD => (rest.len(), Frame::Unchecked),
                    None => return,
                },
                Frame::Unchecked => (rest.len(), Frame::Unchecked),
            };
            self.released += taken;
            self.frame = next;
        }
    }
}

/// The size of a chunk-size line (hex digits, then extensions after `;`), if it is one.
fn chunk_size(line: &[u8]) -> Option<u64> {
    let digits = line.split(|b| *b == b';').next()?.trim_ascii();
    if digits.is_empty() || digits.len() > 15 {
        return None;
    }
    u64::from_str_radix(std::str::from_utf8(digits).ok()?, 16).ok()
}

impl<T: AsyncRead + Unpin> AsyncRead for Checked<T> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        loop {
            if this.released > 0 {
                let n = this.released.min(buf.remaining());
                buf.put_slice(&this.inbox[..n]);
                this.inbox.drain(..n);
                this.released -= n;
                return Poll::Ready(Ok(()));
            }
            if this.refusal.is_some() {
                // Nothing more for actix-http: it answers what came before, then shuts the connection down.
                return Poll::Ready(Ok(()));
            }
            let waiting_for_head = this.frame == Frame::Head && (!this.served || !this.inbox.is_empty());
            if waiting_for_head {
                let timeout = this.head_timeout;
                let deadline = this.head_deadline.get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
                if deadline.as_mut().poll(cx).is_ready() {
                    this.refuse(StatusCode::REQUEST_TIMEOUT, "The request head did not arrive in time.");
                    continue;
                }
            }
            let mut chunk = [0_u8; 8192];
            let mut read = ReadBuf::new(&mut chunk);
            ready!(Pin::new(&mut this.io).poll_read(cx, &mut read))?;
            if read.filled().is_empty() {
                // The client closed: what is still held goes through as it is, for actix-http to end with.
                this.released = this.inbox.len();
                if this.released == 0 {
                    return Poll::Ready(Ok(()));
                }
                continue;
            }
            this.inbox.extend_from_slice(read.filled());
            this.advance();
        }
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Checked<T> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    /// Writes the answer to a refused head, if any, after everything actix-http wrote, then shuts down.
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if let Some((answer, written)) = &mut this.refusal {
            while *written < answer.len() {
                let n = ready!(Pin::new(&mut this.io).poll_write(cx, &answer[*written..]))?;
                if n == 0 {
                    break;
                }
                *written += n;
            }
            ready!(Pin::new(&mut this.io).poll_flush(cx))?;
        }
        Pin::new(&mut this.io).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(head: &[u8]) -> StatusCode {
        match check_head(head) {
            Verdict::Refused(status, _) => status,
            other => panic!("{other:?} for {}", String::from_utf8_lossy(head)),
        }
    }

    #[test]
    fn a_sound_head_gives_its_length_and_the_framing_that_follows() {
        let get = b"GET /api/v1.0/customers?x=1 HTTP/1.1\r\nHost: a\r\n\r\nGET";
        assert_eq!(check_head(get), Verdict::Sound { length: get.len() - 3, next: Frame::Head });
        let post = b"POST /x HTTP/1.1\r\nContent-Length: 12\r\n\r\n";
        assert_eq!(check_head(post), Verdict::Sound { length: post.len(), next: Frame::Body(12) });
        let chunked = b"POST /x HTTP/1.1\r\nTransfer-Encoding: Chunked\r\n\r\n";
        assert_eq!(check_head(chunked), Verdict::Sound { length: chunked.len(), next: Frame::ChunkSize });
        assert_eq!(check_head(b"GET /x HTTP/1.1\r\nHost: a\r\n"), Verdict::Partial);
    }

    #[test]
    fn a_head_that_could_be_read_two_ways_or_not_at_all_is_refused() {
        for (head, status) in [
            (&b"POST /x HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"[..], 400),
            (b"POST /x HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", 400),
            (b"POST /x HTTP/1.1\r\nContent-Length: +5\r\n\r\n", 400),
            (b"POST /x HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 400),
            (b"GET /caf\xc3\xa9 HTTP/1.1\r\n\r\n", 400),
            (b"GET /\xff HTTP/1.1\r\n\r\n", 400),
            (b"GARBAGE\r\n\r\n", 400),
            (b"GET / HTTP/1.1\r\nBad Name: x\r\n\r\n", 400),
        ] {
            assert_eq!(refused(head).as_u16(), status, "{}", String::from_utf8_lossy(head));
        }
        let long_uri = [b"GET /".as_slice(), &[b'a'; MAX_REQUEST_LINE], b" HTTP/1.1\r\n\r\n"].concat();
        assert_eq!(refused(&long_uri), StatusCode::URI_TOO_LONG);
        assert_eq!(refused(&long_uri[..MAX_REQUEST_LINE + 10]), StatusCode::URI_TOO_LONG, "before it ends");
        let big =
            [b"GET / HTTP/1.1\r\n".as_slice(), &b"X-A: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n".repeat(1000)].concat();
        assert_eq!(refused(&big), StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
        let many = [b"GET / HTTP/1.1\r\n".as_slice(), &b"X-A: a\r\n".repeat(65), b"\r\n"].concat();
        assert_eq!(refused(&many), StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
    }

    /// Feeds `stream` a few bytes at a time, as a socket would, and returns what is released and the refusal.
    fn feed(stream: &[u8], step: usize) -> (Vec<u8>, Option<String>) {
        let mut checked = Checked::new((), Duration::from_secs(10));
        let mut released = Vec::new();
        for piece in stream.chunks(step) {
            checked.inbox.extend_from_slice(piece);
            checked.advance();
            released.extend(checked.inbox.drain(..checked.released));
            checked.released = 0;
        }
        let refusal = checked.refusal.map(|(answer, _)| String::from_utf8_lossy(&answer).into_owned());
        (released, refusal)
    }

    #[test]
    fn bodies_are_followed_to_the_next_head_by_length_and_by_chunks() {
        let requests = [
            b"POST /a HTTP/1.1\r\nContent-Length: 4\r\n\r\nabcd".as_slice(),
            b"\r\nPOST /b HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n10\r\n0123456789abcdef\r\n0\r\nT: v\r\n\r\n",
            b"GET /c HTTP/1.1\r\n\r\n",
        ]
        .concat();
        for step in [1, 3, 7, requests.len()] {
            assert_eq!(feed(&requests, step), (requests.clone(), None), "{step} bytes at a time");
        }
        // A bad head after a sound request: the first goes through, the second is held and answered.
        let first = b"POST /a HTTP/1.1\r\nContent-Length: 4\r\n\r\nabcd";
        let stream = [first.as_slice(), b"GET /\xff HTTP/1.1\r\n\r\n"].concat();
        let (released, refusal) = feed(&stream, 5);
        assert_eq!(released, first);
        let refusal = refusal.unwrap();
        assert!(refusal.starts_with("HTTP/1.1 400 Bad Request\r\n") && refusal.contains(r#""error":400"#), "{refusal}");
    }
}
