//! Turns TCP_NODELAY on for the sockets the embedded broker accepts.
//!
//! rumqttd 0.20 never calls `set_nodelay` on a connection it accepts and has
//! no option for it. With Nagle on at the broker, a small write to a client
//! that has not yet acknowledged the broker's previous small write (say the
//! PUBACK for the desktop's last publish) waits for that client's delayed
//! ACK, up to ~40 ms: a phone's `stop` arriving just after the daemon
//! published was held that long (docs/performance.md, "Phone link").
//!
//! The broker runs inside our process, so its sockets are our descriptors.
//! [`tune_accepted`] walks `/proc/self/fd`, and for each connected TCP
//! socket whose *local* port is one of the broker's listening ports (that
//! is, a socket the broker accepted, never a client socket, whose local
//! port is ephemeral) sets TCP_NODELAY if it is off. Setting the option is
//! all we do: it changes only when segments leave, never what is sent.
//!
//! A descriptor number can be closed and reused by another thread between
//! the checks and the `setsockopt`. The checks are re-read just before the
//! call, and the worst outcome of the race is TCP_NODELAY on another TCP
//! socket of this process, which every Reins client socket already has.
//!
//! Not here: anything for external brokers (Mosquitto has
//! `set_tcp_nodelay true`, see docs/brokers.md), or the client side
//! (reins-link's rumqttc options set TCP_NODELAY on our own sockets).

use std::time::Duration;

/// How often the tuner thread looks for newly accepted sockets. A phone
/// that connects gets TCP_NODELAY within this long; the daemon's own link,
/// the one a phone's commands reach the daemon through, is tuned at once
/// on every (re)connect (`tune_accepted` is called then). Only what the
/// broker writes *to a phone* waits for this, so once a second is enough,
/// and keeps the idle daemon's wake-ups few.
pub const TUNE_EVERY: Duration = Duration::from_secs(1);

/// Sets TCP_NODELAY on every connected TCP socket of this process whose
/// local port is in `ports`, and returns how many it changed. Errors on a
/// single descriptor (it closed meanwhile, it is not a socket) skip it.
pub fn tune_accepted(ports: &[u16]) -> usize {
    let Ok(dir) = std::fs::read_dir("/proc/self/fd") else {
        return 0;
    };
    let mut changed = 0;
    for entry in dir.flatten() {
        let Some(fd) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<libc::c_int>().ok())
        else {
            continue;
        };
        // Cheap filter first: only sockets link to "socket:[inode]".
        let is_socket = std::fs::read_link(entry.path())
            .map(|t| t.as_os_str().as_encoded_bytes().starts_with(b"socket:"))
            .unwrap_or(false);
        if is_socket && is_accepted_tcp(fd, ports) && !nodelay_on(fd) && set_nodelay(fd) {
            changed += 1;
        }
    }
    changed
}

/// Starts a thread that calls [`tune_accepted`] every [`TUNE_EVERY`] for
/// the life of the process (the embedded broker has no shutdown either).
pub(crate) fn spawn_tuner(ports: Vec<u16>) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("reins-broker-nodelay".into())
        .spawn(move || {
            loop {
                let n = tune_accepted(&ports);
                if n > 0 {
                    tracing::debug!(sockets = n, "TCP_NODELAY set on accepted broker sockets");
                }
                std::thread::sleep(TUNE_EVERY);
            }
        })
        .map(|_| ())
}

/// True if `fd` is a connected IPv4/IPv6 stream socket whose local port is
/// in `ports`.
fn is_accepted_tcp(fd: libc::c_int, ports: &[u16]) -> bool {
    let mut kind: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: getsockopt writes at most `len` bytes into `kind`; a stale or
    // non-socket descriptor only makes it fail.
    let rc = unsafe {
        libc::getsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_TYPE,
            (&raw mut kind).cast(),
            &mut len,
        )
    };
    if rc != 0 || kind != libc::SOCK_STREAM {
        return false;
    }
    let Some(port) = local_port(fd) else {
        return false;
    };
    if !ports.contains(&port) {
        return false;
    }
    // A listening socket has no peer; only accepted connections do.
    // SAFETY: sockaddr_storage is large enough for any address.
    let mut peer: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    let mut plen = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    // SAFETY: getpeername writes at most `plen` bytes into `peer`.
    unsafe { libc::getpeername(fd, (&raw mut peer).cast(), &mut plen) == 0 }
}

fn local_port(fd: libc::c_int) -> Option<u16> {
    // SAFETY: an all-zero sockaddr_storage is a valid value.
    let mut addr: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    let mut len = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    // SAFETY: getsockname writes at most `len` bytes into `addr`.
    if unsafe { libc::getsockname(fd, (&raw mut addr).cast(), &mut len) } != 0 {
        return None;
    }
    match libc::c_int::from(addr.ss_family) {
        libc::AF_INET => {
            // SAFETY: the family says this storage holds a sockaddr_in.
            let a: libc::sockaddr_in = unsafe { std::ptr::read((&raw const addr).cast()) };
            Some(u16::from_be(a.sin_port))
        }
        libc::AF_INET6 => {
            // SAFETY: the family says this storage holds a sockaddr_in6.
            let a: libc::sockaddr_in6 = unsafe { std::ptr::read((&raw const addr).cast()) };
            Some(u16::from_be(a.sin6_port))
        }
        _ => None,
    }
}

fn nodelay_on(fd: libc::c_int) -> bool {
    let mut on: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: getsockopt writes at most `len` bytes into `on`.
    let rc = unsafe {
        libc::getsockopt(
            fd,
            libc::IPPROTO_TCP,
            libc::TCP_NODELAY,
            (&raw mut on).cast(),
            &mut len,
        )
    };
    rc == 0 && on != 0
}

fn set_nodelay(fd: libc::c_int) -> bool {
    let on: libc::c_int = 1;
    // SAFETY: setsockopt reads exactly `size_of::<c_int>()` bytes from `on`.
    let rc = unsafe {
        libc::setsockopt(
            fd,
            libc::IPPROTO_TCP,
            libc::TCP_NODELAY,
            (&raw const on).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    rc == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{TcpListener, TcpStream};
    use std::os::fd::AsRawFd;

    #[test]
    fn only_the_accepted_side_of_a_connection_is_tuned() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let client = TcpStream::connect(("127.0.0.1", port)).unwrap();
        let (accepted, _) = listener.accept().unwrap();
        assert!(
            !accepted.nodelay().unwrap(),
            "a fresh socket starts with Nagle on"
        );
        assert!(!client.nodelay().unwrap());

        assert!(tune_accepted(&[port]) >= 1);
        assert!(accepted.nodelay().unwrap(), "the accepted socket is tuned");
        assert!(
            !client.nodelay().unwrap(),
            "the client socket is not ours to tune"
        );
        assert!(
            !is_accepted_tcp(listener.as_raw_fd(), &[port]),
            "the listener has no peer"
        );

        // Idempotent: nothing left to change on this port.
        assert_eq!(tune_accepted(&[port]), 0);
    }

    #[test]
    fn sockets_on_other_ports_are_left_alone() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let _client = TcpStream::connect(("127.0.0.1", port)).unwrap();
        let (accepted, _) = listener.accept().unwrap();
        // A second listener that never accepts: its port is nobody's.
        let other = TcpListener::bind("127.0.0.1:0").unwrap();
        assert_eq!(tune_accepted(&[other.local_addr().unwrap().port()]), 0);
        assert!(!accepted.nodelay().unwrap());
    }
}
