import CNetlink

/// A netlink request that failed: what was attempted, on what, and the
/// kernel's errno, with a description an operator can act on.
public struct NetlinkError: Error, Sendable, Equatable, CustomStringConvertible {
    public var operation: String
    public var object: String
    public var errno: Int32

    public init(operation: String, object: String, errno: Int32) {
        self.operation = operation
        self.object = object
        self.errno = errno
    }

    public var description: String {
        let reason: String
        switch errno {
        case EPERM, EACCES: reason = "permission denied (needs CAP_NET_ADMIN)"
        case EEXIST: reason = "already exists"
        case ENOENT, ESRCH: reason = "no such object"
        case ENODEV: reason = "no such device"
        case ENOBUFS: reason = "the netlink socket overflowed (ENOBUFS); a full resync is needed"
        default: reason = String(cString: strerror(errno))
        }
        return "\(operation) \(object): \(reason)"
    }
}

extension NetlinkError {
    /// libnl returns its own negative NLE_* codes; map the common ones back
    /// to the errno the kernel most likely sent.
    init(operation: String, object: String, libnlCode code: Int32) {
        let errnoByCode: [Int32: Int32] = [
            NLE_EXIST: EEXIST, NLE_OBJ_NOTFOUND: ENOENT, NLE_PERM: EPERM, NLE_NOACCESS: EACCES,
            NLE_NODEV: ENODEV, NLE_NOMEM: ENOMEM, NLE_INVAL: EINVAL, NLE_BUSY: EBUSY,
            NLE_AGAIN: EAGAIN, NLE_OPNOTSUPP: EOPNOTSUPP, NLE_RANGE: ERANGE, NLE_NOADDR: EADDRNOTAVAIL,
        ]
        self.init(operation: operation, object: object, errno: errnoByCode[abs(code)] ?? EIO)
    }
}
