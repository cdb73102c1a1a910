//! The answers actix-http writes itself, in the envelope.
//!
//! actix-http answers a request it cannot parse (a malformed request line or header, `Content-Length` with
//! `Transfer-Encoding`, a target that is not ASCII, an over-long head) and a head that is late with a response of
//! its own — `400`, `431` or `408` with an empty body — before any application code runs, and it has no hook for
//! them. `Enveloped` sits between the socket and actix-http and rewrites those responses on their way out: the
//! request's bytes go to actix-http untouched, and of what it writes only these heads are recognised, by their exact
//! bytes (the service's own error answers always have a body, so never `content-length: 0`). actix-http answers
//! an over-long URI with its `400` too; the request line being the one line of a request so long, `Enveloped`
//! counts the longest line it has passed on, and answers `414` for a `400` once one reached the URI's limit.
//!
//! Hand-written because it is a few lines over the socket, and no crate hooks actix-http's own answers; `memchr`
//! does the search.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use actix_web::http::StatusCode;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// What actix-http writes for each answer of its own (status line and the first header, as its encoder writes
/// them), and what the envelope says instead.
const OWN_ANSWERS: [(&[u8], StatusCode, &str); 3] = [
    (
        b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n",
        StatusCode::BAD_REQUEST,
        "The request is not valid HTTP/1.1: its request line, a header or its framing (such as Content-Length with \
         Transfer-Encoding) could not be read.",
    ),
    (
        b"HTTP/1.1 408 Request Timeout\r\ncontent-length: 0\r\n",
        StatusCode::REQUEST_TIMEOUT,
        "The request head did not arrive within the request timeout.",
    ),
    (
        b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\n",
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
        "The request head is too large.",
    ),
];

/// The longest URI actix-http reads (that of the `http` crate): a longer one is its `400`.
const URI_LIMIT: usize = u16::MAX as usize - 1;

/// A connection's socket, whose answers from actix-http itself go out in the envelope.
#[derive(Debug)]
pub struct Enveloped<T> {
    io: T,
    /// The envelope answer standing in for one of actix-http's, still to write, and how much of it is written.
    answer: Vec<u8>,
    written: usize,
    /// The length of the line being read, and of the longest line read on this connection (without its CRLF).
    line: usize,
    longest: usize,
}

impl<T> Enveloped<T> {
    /// Wraps a connection's socket.
    pub fn new(io: T) -> Self {
        Self { io, answer: Vec::new(), written: 0, line: 0, longest: 0 }
    }

    /// Counts the lines of what was read.
    fn count_lines(&mut self, read: &[u8]) {
        let mut rest = read;
        while let Some(end) = memchr::memchr(b'\n', rest) {
            let content = if end > 0 && rest[end - 1] == b'\r' { end - 1 } else { end };
            self.longest = self.longest.max(self.line + content);
            self.line = 0;
            rest = &rest[end + 1..];
        }
        self.line += rest.len();
        self.longest = self.longest.max(self.line);
    }

    /// Where one of actix-http's own answers starts in `buf`, how long its head is, and what stands in for it.
    fn own_answer(&self, buf: &[u8]) -> Option<(usize, usize, Vec<u8>)> {
        memchr::memmem::find_iter(buf, b"HTTP/1.1 4").find_map(|at| {
            let (_, status, message) = OWN_ANSWERS.iter().find(|(head, ..)| buf[at..].starts_with(head))?;
            let length = memchr::memmem::find(&buf[at..], b"\r\n\r\n")? + 4;
            let answer = if *status == StatusCode::BAD_REQUEST && self.longest >= URI_LIMIT {
                crate::envelope::raw_error(StatusCode::URI_TOO_LONG, "The request's URI is too long.", &[])
            } else {
                crate::envelope::raw_error(*status, message, &[])
            };
            Some((at, length, answer))
        })
    }
}

impl<T: AsyncWrite + Unpin> Enveloped<T> {
    /// Writes what is left of an envelope answer.
    fn poll_answer(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.written < self.answer.len() {
            let n = ready!(Pin::new(&mut self.io).poll_write(cx, &self.answer[self.written..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.written += n;
        }
        self.answer.clear();
        self.written = 0;
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Enveloped<T> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        ready!(Pin::new(&mut this.io).poll_read(cx, buf))?;
        this.count_lines(&buf.filled()[before..]);
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Enveloped<T> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        ready!(this.poll_answer(cx))?;
        match this.own_answer(buf) {
            None => Pin::new(&mut this.io).poll_write(cx, buf),
            // The answers before it first: actix-http writes again from there.
            Some((at, ..)) if at > 0 => Pin::new(&mut this.io).poll_write(cx, &buf[..at]),
            // Its head is taken (its body is empty) and the envelope answer written in its place.
            Some((_, length, answer)) => {
                this.answer = answer;
                Poll::Ready(Ok(length))
            }
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_answer(cx))?;
        Pin::new(&mut this.io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_answer(cx))?;
        Pin::new(&mut this.io).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::Enveloped;

    /// What the peer reads after `writes` go through `Enveloped`, each as one write.
    async fn through(writes: &[&[u8]]) -> String {
        let (near, mut far) = tokio::io::duplex(64);
        let mut enveloped = Enveloped::new(near);
        let writing = async {
            for write in writes {
                enveloped.write_all(write).await.unwrap();
            }
            enveloped.shutdown().await.unwrap();
        };
        let mut read = Vec::new();
        let ((), _) = tokio::join!(writing, far.read_to_end(&mut read));
        String::from_utf8(read).unwrap()
    }

    const OWN_400: &[u8] = b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\ndate: x\r\n\r\n";
    const SERVICE_400: &[u8] = b"HTTP/1.1 400 Bad Request\r\ncontent-length: 2\r\n\r\n{}";

    fn body(answer: &str) -> serde_json::Value {
        serde_json::from_str(answer.split("\r\n\r\n").nth(1).unwrap()).unwrap()
    }

    #[tokio::test]
    async fn actix_https_own_answers_go_out_in_the_envelope() {
        for (own, status) in [
            (OWN_400.to_vec(), 400),
            (b"HTTP/1.1 408 Request Timeout\r\ncontent-length: 0\r\ndate: x\r\n\r\n".to_vec(), 408),
            (b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\n\r\n".to_vec(), 431),
        ] {
            let answer = through(&[&own]).await;
            assert!(answer.starts_with(&format!("HTTP/1.1 {status} ")), "{answer}");
            assert!(answer.contains("content-type: application/json"), "{answer}");
            let body = body(&answer);
            assert_eq!(body["status"], "error");
            assert_eq!(body["error"], status);
        }
    }

    /// A `400` after a line as long as the URI's limit was read is a `414`; after shorter lines, a `400`.
    #[tokio::test]
    async fn a_400_after_a_line_as_long_as_the_uris_limit_is_a_414() {
        for (lines, status) in [(vec![10, super::URI_LIMIT - 1, 3], 400), (vec![10, super::URI_LIMIT, 3], 414)] {
            let (near, mut far) = tokio::io::duplex(1 << 20);
            let mut enveloped = Enveloped::new(near);
            let sent: Vec<u8> = lines.iter().flat_map(|&n| [vec![b'a'; n], b"\r\n".to_vec()].concat()).collect();
            // Sent in pieces, as the socket hands them over.
            for piece in sent.chunks(4000) {
                far.write_all(piece).await.unwrap();
                let mut read = vec![0; 4000];
                let n = enveloped.read(&mut read).await.unwrap();
                assert_eq!(n, piece.len());
            }
            enveloped.write_all(OWN_400).await.unwrap();
            enveloped.shutdown().await.unwrap();
            let mut answer = Vec::new();
            far.read_to_end(&mut answer).await.unwrap();
            let answer = String::from_utf8(answer).unwrap();
            assert!(answer.starts_with(&format!("HTTP/1.1 {status} ")), "{lines:?}: {answer}");
        }
    }

    #[tokio::test]
    async fn the_answers_before_and_the_services_own_go_through_untouched() {
        let sound = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}".as_slice();
        assert_eq!(through(&[sound, SERVICE_400]).await.as_bytes(), [sound, SERVICE_400].concat());
        // A pipelined answer, then actix-http's own in the same write.
        let answer = through(&[&[sound, OWN_400].concat()]).await;
        assert!(answer.starts_with("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}HTTP/1.1 400 Bad Request\r\n"));
        assert_eq!(body(&answer["HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}".len()..])["error"], 400);
        // A 204 or a preflight has no body either, but is not one of actix-http's answers.
        let empty = b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n".as_slice();
        assert_eq!(through(&[empty]).await.as_bytes(), empty);
    }
}
