import CNetlink

/// The errno of a failed netlink exchange or system call, before the public
/// type adds what was attempted on what. Kept apart from libnl's NLE_*
/// codes: those fold distinct errnos into one (ESRCH and ENOENT both become
/// NLE_OBJ_NOTFOUND), so the kernel's own errno is read from its reply.
struct KernelErrno: Error {
    var errno: Int32
    /// Set when a system call of this process failed rather than the
    /// kernel refusing the request: what it attempted on what
    /// (`SystemCall.check`).
    var failedCall: String?

    init(_ errno: Int32, failedCall: String? = nil) {
        self.errno = errno
        self.failedCall = failedCall
    }

    /// For failures libnl reports itself (socket, send, receive), where no
    /// kernel errno exists; NLE_* codes come back negative. libnl folds
    /// several errnos into one code, so this is the most likely errno only.
    init(libnlCode code: Int32) {
        switch abs(code) {
        case NLE_EXIST: errno = EEXIST
        case NLE_OBJ_NOTFOUND: errno = ENOENT
        case NLE_PERM: errno = EPERM
        case NLE_NOACCESS: errno = EACCES
        case NLE_NODEV: errno = ENODEV
        case NLE_NOMEM: errno = ENOMEM
        case NLE_INVAL: errno = EINVAL
        case NLE_BUSY: errno = EBUSY
        case NLE_AGAIN: errno = EAGAIN
        case NLE_OPNOTSUPP: errno = EOPNOTSUPP
        case NLE_RANGE: errno = ERANGE
        case NLE_NOADDR: errno = EADDRNOTAVAIL
        case NLE_MSGSIZE: errno = EMSGSIZE
        case NLE_DUMP_INTR: errno = EINTR
        case NLE_SEQ_MISMATCH, NLE_MSG_TRUNC, NLE_MSG_TOOSHORT, NLE_MSG_OVERFLOW, NLE_PARSE_ERR: errno = EPROTO
        default: errno = EIO
        }
    }
}
