//! While the service stops: connections that reach the listener once the server has stopped accepting are
//! answered 503 in the envelope (`Retry-After`), not reset.
//!
//! Why this exists: on a graceful stop, actix-server closes its listener — which resets every connection the
//! kernel had accepted and queued but the server had not yet taken — and its workers drop the connections handed to
//! them and not yet started. The service therefore pauses accepting first (each worker starts what it was handed),
//! keeps its own handle on the listening socket so that closing actix's does not close the socket, and answers
//! what still arrives until the server has stopped. Last, the socket stops completing handshakes (a filter drops
//! what it receives), the connections it had queued are answered, and it closes with nothing queued to reset: a
//! client connecting from then on is refused.

use std::future::Future;
use std::time::Duration;

use actix_web::http::StatusCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::task::JoinSet;

/// How long a late client has to send its request head, then to finish its body, before the answer's socket is
/// closed anyway.
const LATE_CLIENT: Duration = Duration::from_secs(2);

/// Accepts on `listener` until `stop` resolves, answering each connection 503 in the envelope, then waits for those
/// answers (each a few seconds at most) and closes the listener.
pub async fn answer_while_stopping(listener: std::net::TcpListener, stop: impl Future<Output = ()>) {
    let listener = match listener.set_nonblocking(true).and_then(|()| tokio::net::TcpListener::from_std(listener)) {
        Ok(listener) => listener,
        Err(e) => {
            tracing::warn!(error = %e, "connections arriving during the stop cannot be answered");
            return;
        }
    };
    let mut answers = JoinSet::new();
    tokio::pin!(stop);
    loop {
        tokio::select! {
            () = &mut stop => break,
            accepted = listener.accept() => {
                if let Ok((stream, _)) = accepted {
                    answers.spawn(answer_stopping(stream));
                }
            }
        }
    }
    // The socket starts no more handshakes (a client's SYN is dropped, and refused once the socket closes); those
    // under way have a moment to complete, and all it queued are answered too. Then nothing can reach the queue
    // between the last accept and the close, which would reset it.
    match refuse_new_handshakes(&listener) {
        Ok(()) => tokio::time::sleep(HANDSHAKES_UNDER_WAY).await,
        Err(e) => tracing::warn!(error = %e, "a connection arriving as the socket closes may be reset"),
    }
    while let Ok(Ok((stream, _))) = tokio::time::timeout(Duration::from_millis(1), listener.accept()).await {
        answers.spawn(answer_stopping(stream));
    }
    drop(listener);
    while answers.join_next().await.is_some() {}
}

/// How long a handshake under way when the socket stops starting new ones has to complete: its client's ACK is one
/// round trip away.
const HANDSHAKES_UNDER_WAY: Duration = Duration::from_millis(100);

/// A socket filter on the listening socket that drops each SYN it receives: no handshake starts, those under way
/// complete (their last ACK goes through). Connections already established have their own sockets, unfiltered.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn refuse_new_handshakes(listener: &tokio::net::TcpListener) -> std::io::Result<()> {
    drop_packets_with(listener, TCP_SYN)
}

/// The SYN flag of a TCP header's flags byte.
const TCP_SYN: u32 = 0x02;

/// A classic BPF filter over each TCP header the socket receives: drop it if one of `flags` is set.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn drop_packets_with(listener: &tokio::net::TcpListener, flags: u32) -> std::io::Result<()> {
    use socket2::SockFilter;
    let program = [
        SockFilter::new(0x30, 0, 0, 13), // BPF_LD | BPF_B | BPF_ABS: the byte at offset 13, the flags
        SockFilter::new(0x45, 0, 1, flags), // BPF_JMP | BPF_JSET | BPF_K: one of them set? next : skip one
        SockFilter::new(0x06, 0, 0, 0),  // BPF_RET | BPF_K: keep 0 bytes, that is drop it
        SockFilter::new(0x06, 0, 0, 0xFFFF_FFFF), // BPF_RET | BPF_K: keep it whole
    ];
    socket2::SockRef::from(listener).attach_filter(&program)
}

/// Elsewhere the socket has no filter: a connection completing its handshake as the socket closes is reset.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn refuse_new_handshakes(_listener: &tokio::net::TcpListener) -> std::io::Result<()> {
    Ok(())
}

/// Reads the request head (a socket closed with unread bytes is reset, and its answer lost with it), answers 503,
/// then reads what the client still sends until it closes.
async fn answer_stopping(mut stream: TcpStream) {
    let mut head = Vec::new();
    let mut buffer = [0_u8; 4096];
    let read_head = async {
        while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 64 * 1024 {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(n) => head.extend_from_slice(&buffer[..n]),
            }
        }
    };
    let _ = tokio::time::timeout(LATE_CLIENT, read_head).await;
    let answer = crate::envelope::raw_error(
        StatusCode::SERVICE_UNAVAILABLE,
        "The service is stopping; try again shortly.",
        &[("retry-after", "1")],
    );
    if stream.write_all(&answer).await.is_err() || stream.shutdown().await.is_err() {
        return;
    }
    let drain = async { while matches!(stream.read(&mut buffer).await, Ok(n) if n > 0) {} };
    let _ = tokio::time::timeout(LATE_CLIENT, drain).await;
}

#[cfg(all(test, any(target_os = "linux", target_os = "android")))]
mod tests {
    use std::time::Duration;

    use super::{drop_packets_with, refuse_new_handshakes};

    /// Once the socket refuses handshakes, the connections queued before are still there to accept, and no new one
    /// joins them: nothing can be queued, and then reset, between the last accept and the close.
    #[tokio::test]
    async fn a_socket_refusing_handshakes_keeps_its_queue_and_adds_nothing_to_it() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let queued = std::net::TcpStream::connect(address).unwrap();
        refuse_new_handshakes(&listener).unwrap();
        let late = tokio::task::spawn_blocking(move || {
            std::net::TcpStream::connect_timeout(&address, Duration::from_millis(300))
        });
        let (accepted, _) = tokio::time::timeout(Duration::from_secs(1), listener.accept()).await.unwrap().unwrap();
        assert_eq!(accepted.peer_addr().unwrap(), queued.local_addr().unwrap(), "the queued connection is accepted");
        assert!(late.await.unwrap().is_err(), "a handshake after the filter does not complete");
        let more = tokio::time::timeout(Duration::from_millis(100), listener.accept()).await;
        assert!(more.is_err(), "nothing else was queued");
    }

    /// The filter reads the TCP flags: dropping packets with ACK lets the client's SYN through (its connect
    /// completes) but not the ACK that would queue the connection — where dropping SYNs stops the connect itself.
    #[tokio::test]
    async fn the_filter_reads_each_packets_tcp_flags() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        drop_packets_with(&listener, 0x10).unwrap();
        let client = std::net::TcpStream::connect_timeout(&address, Duration::from_secs(1));
        assert!(client.is_ok(), "the SYN went through: {client:?}");
        let queued = tokio::time::timeout(Duration::from_millis(200), listener.accept()).await;
        assert!(queued.is_err(), "the ACK did not");
    }
}
