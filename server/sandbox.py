"""Close the network to a query process: whatever a query says, it cannot open a connection.

pyoxigraph evaluates ``SERVICE`` and ``LOAD`` itself, with its own HTTP client, inside
:func:`pyoxigraph.Store.query`/``update``; no Python hook sees those requests, and any check made
on the text by another parser can be fooled by a text the two parsers read differently. So the
query processes (:mod:`ckg.server.engine`) run under a seccomp filter installed when they start:
``socket()`` succeeds only for ``AF_UNIX`` (the process talks to its parent over a socket pair
made before the filter), every other address family fails with ``EACCES``, and io_uring (which
could open sockets without the ``socket`` system call) is refused. The filter cannot be removed
and is inherited by any child. ``SERVICE`` clauses to allowlisted endpoints are evaluated by the
web worker instead (:mod:`ckg.server.federation`), where every request is checked as it is made.

Where the filter cannot be installed (not Linux, another CPU architecture, seccomp disabled),
:func:`available` says why, and the server falls back to refusing every text that mentions
``SERVICE`` or ``LOAD`` at all (see :mod:`ckg.server.guard`).

>>> available()[0] in (True, False)
True
"""

from __future__ import annotations

import ctypes
import errno
import os
import platform
import struct
import sys

# <linux/audit.h>, <linux/seccomp.h>, <linux/filter.h>, <linux/prctl.h>
_ARCHES = {  # machine -> (AUDIT_ARCH_*, syscall numbers of socket, io_uring_setup/enter/register)
    "x86_64": (0xC000003E, 41, (425, 426, 427)),
    "aarch64": (0xC00000B7, 198, (425, 426, 427)),
}
_X32_SYSCALL_BIT = 0x40000000
_PR_SET_NO_NEW_PRIVS = 38
_PR_SET_SECCOMP = 22
_SECCOMP_MODE_FILTER = 2
_RET_ALLOW = 0x7FFF0000
_RET_ERRNO = 0x00050000
_LD_W_ABS = 0x20  # BPF_LD | BPF_W | BPF_ABS
_JEQ_K = 0x15  # BPF_JMP | BPF_JEQ | BPF_K
_JGE_K = 0x35  # BPF_JMP | BPF_JGE | BPF_K
_RET_K = 0x06  # BPF_RET | BPF_K
_OFFSET_NR, _OFFSET_ARCH, _OFFSET_ARG0 = 0, 4, 16
_AF_UNIX = 1


class SandboxError(OSError):
    """The network could not be closed to this process."""


def available() -> tuple[bool, str]:
    """Whether this machine can close the network to a query process, and if not, why.

    >>> ok, why = available()
    >>> isinstance(why, str)
    True
    """
    if not sys.platform.startswith("linux"):
        return False, f"seccomp filters need Linux (this is {sys.platform})"
    machine = platform.machine()
    if machine not in _ARCHES:
        return False, f"no seccomp filter for the {machine} architecture"
    if sys.byteorder != "little":
        return False, "no seccomp filter for a big-endian machine"
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as handle:
            if not any(line.startswith("Seccomp:") for line in handle):
                return False, "this kernel has no seccomp support"
    except OSError as exc:
        return False, f"cannot read /proc/self/status: {exc}"
    return True, "seccomp"


def _instruction(code: int, jt: int, jf: int, k: int) -> bytes:
    return struct.pack("=HBBI", code, jt, jf, k)


def filter_program(machine: str | None = None) -> bytes:
    """The BPF program (``struct sock_filter[]``) of the filter for ``machine``.

    >>> len(filter_program("x86_64")) // 8
    14
    """
    arch, sys_socket, io_uring = _ARCHES[machine or platform.machine()]
    deny, no_call = _RET_ERRNO | errno.EACCES, _RET_ERRNO | errno.ENOSYS
    program = [
        (_LD_W_ABS, 0, 0, _OFFSET_ARCH),     # 0
        (_JEQ_K, 1, 0, arch),                # 1: our architecture -> 3
        (_RET_K, 0, 0, no_call),             # 2: a foreign ABI (i386 on x86_64): no system call at all
        (_LD_W_ABS, 0, 0, _OFFSET_NR),       # 3
        (_JGE_K, 0, 1, _X32_SYSCALL_BIT),    # 4: the x32 ABI -> 5, else -> 6
        (_RET_K, 0, 0, no_call),             # 5
        (_JEQ_K, 0, 3, sys_socket),          # 6: socket() -> 7, else -> 10
        (_LD_W_ABS, 0, 0, _OFFSET_ARG0),     # 7: its domain
        (_JEQ_K, 0, 3, _AF_UNIX),            # 8: AF_UNIX -> 9 (allow), else -> 12 (deny)
        (_RET_K, 0, 0, _RET_ALLOW),          # 9
        (_JGE_K, 0, 2, io_uring[0]),         # 10: nr >= io_uring_setup -> 11, else -> 13 (allow)
        (_JGE_K, 1, 0, io_uring[-1] + 1),    # 11: past io_uring_register -> 13 (allow), else -> 12
        (_RET_K, 0, 0, deny),                # 12
        (_RET_K, 0, 0, _RET_ALLOW),          # 13
    ]
    return b"".join(_instruction(*i) for i in program)


def close_network() -> None:
    """Install the filter in this process (for good). Raises :class:`SandboxError` when it cannot."""
    ok, why = available()
    if not ok:
        raise SandboxError(why)
    program = filter_program()
    libc = ctypes.CDLL(None, use_errno=True)
    buffer = ctypes.create_string_buffer(program, len(program))

    class SockFprog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

    fprog = SockFprog(len(program) // 8, ctypes.cast(buffer, ctypes.c_void_p))
    if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise SandboxError(f"prctl(PR_SET_NO_NEW_PRIVS) failed: {os.strerror(ctypes.get_errno())}")
    if libc.prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0) != 0:
        raise SandboxError(f"prctl(PR_SET_SECCOMP) failed: {os.strerror(ctypes.get_errno())}")


def network_closed() -> bool:
    """True when this process cannot open an Internet socket (the filter is in force).

    >>> network_closed()  # the doctest process has its network
    False
    """
    import socket

    try:
        socket.socket(socket.AF_INET, socket.SOCK_STREAM).close()
    except PermissionError:
        return True
    return False
