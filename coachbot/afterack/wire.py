"""The after-ack socket: a Unix socket in a directory only this user can enter, a key
handshake before anything else, then length-prefixed frames (each one pickled job).

The connecting side proves it knows the key: the listener sends 32 random bytes and
expects their HMAC-SHA256 under the key back. Nothing is unpickled from a connection that
has not passed, and every step of the handshake is bounded in time, so neither side
waits forever on a peer that hangs.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import socket
import struct
from dataclasses import dataclass

HANDSHAKE_S = 2.0  # connecting and the handshake, on either side
CHALLENGE_BYTES = 32
ACCEPTED, REFUSED = b"ok", b"no"
_LENGTH = struct.Struct("!I")
MAX_FRAME = 64 * 1024 * 1024  # far above any job (a 40,000-character answer pickles to well under 1 MB)


@dataclass(frozen=True)
class Address:
    """Where the after-ack process listens, and the key a connection must prove it knows."""

    path: str
    authkey: bytes


class RefusedError(ConnectionError):
    """The other side does not know the key."""


def _proof(key: bytes, challenge: bytes) -> bytes:
    return hmac.new(key, challenge, hashlib.sha256).digest()


def recv_exact(sock: socket.socket, size: int) -> bytes:
    """``size`` bytes; EOFError if the peer closed before the first, ConnectionError if in between."""
    chunks, got = [], 0
    while got < size:
        chunk = sock.recv(min(size - got, 1 << 20))
        if not chunk:
            if got == 0:
                raise EOFError("the peer closed the connection")
            raise ConnectionError("the peer closed the connection in the middle of a frame")
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def send_frame(sock: socket.socket, data: bytes) -> None:
    sock.sendall(_LENGTH.pack(len(data)) + data)


def recv_frame(sock: socket.socket) -> bytes:
    (size,) = _LENGTH.unpack(recv_exact(sock, _LENGTH.size))
    if size > MAX_FRAME:
        raise ConnectionError(f"a frame of {size} bytes is not a job")
    return recv_exact(sock, size) if size else b""


def connect(address: Address, *, send_timeout: float | None) -> socket.socket:
    """Connect and prove the key. ``send_timeout`` then bounds how long sending one frame may take."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.settimeout(HANDSHAKE_S)
        sock.connect(address.path)
        challenge = recv_exact(sock, CHALLENGE_BYTES)
        sock.sendall(_proof(address.authkey, challenge))
        if recv_exact(sock, len(ACCEPTED)) != ACCEPTED:
            raise RefusedError("the after-ack process refused the key")
        sock.settimeout(send_timeout)
    except BaseException:
        sock.close()
        raise
    return sock


def listen(address: Address, *, backlog: int = 64) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        if os.path.exists(address.path):
            os.unlink(address.path)  # left by a process that died
        sock.bind(address.path)
        os.chmod(address.path, 0o600)
        sock.listen(backlog)
    except BaseException:
        sock.close()
        raise
    return sock


def check_key(sock: socket.socket, authkey: bytes) -> None:
    """The listener's half of the handshake; RefusedError (after telling the peer) if the proof is wrong."""
    sock.settimeout(HANDSHAKE_S)
    challenge = os.urandom(CHALLENGE_BYTES)
    sock.sendall(challenge)
    proof = recv_exact(sock, hashlib.sha256().digest_size)
    if not hmac.compare_digest(proof, _proof(authkey, challenge)):
        try:
            sock.sendall(REFUSED)
        except OSError:
            pass
        raise RefusedError("a connection did not know the key")
    sock.sendall(ACCEPTED)
    sock.settimeout(None)
