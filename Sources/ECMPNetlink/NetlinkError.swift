import CNetlink

/// A netlink request that failed: what was attempted, on what, and the
/// kernel's errno, with a description an operator can act on.
///
/// `subject` says what kind of object the request named, because one errno
/// means different things per request: IPVS answers ENOENT both for an
/// unknown scheduler on NEW_SERVICE and for a missing destination on
/// DEL_DEST, and ESRCH for a missing service.
public struct NetlinkError: Error, Sendable, Equatable, CustomStringConvertible {
    public var operation: String
    public var object: String
    public var errno: Int32
    public var subject: Subject
    /// Set when a system call of this process failed (setting a socket
    /// option, creating a pipe) rather than the kernel refusing the request:
    /// what that call attempted on what. `errno` is then that call's.
    public var failedCall: String?

    public enum Subject: Sendable, Equatable {
        /// Links, addresses, routes: the errno speaks for itself.
        case other
        /// Resolving the "IPVS" generic netlink family: it only exists while
        /// the ip_vs module is loaded.
        case ipvsFamily
        /// An IPVS service; `scheduler` is set when the request named one.
        case ipvsService(scheduler: String?)
        /// An IPVS destination within a service.
        case ipvsDestination
        /// IPVS as a whole: info, timeouts, flush, dumps.
        case ipvs
    }

    public init(operation: String, object: String, errno: Int32, subject: Subject = .other, failedCall: String? = nil) {
        self.operation = operation
        self.object = object
        self.errno = errno
        self.subject = subject
        self.failedCall = failedCall
    }

    /// True when the failure means the kernel has no IPVS at all, so a
    /// caller can tell "load ip_vs" apart from a failed request.
    public var isIPVSUnavailable: Bool { subject == .ipvsFamily }

    public var description: String { "\(operation) \(object): \(reason)" }

    private var reason: String {
        // The subject's wording explains the kernel's answer to the request;
        // a failed call of our own says which call it was instead.
        if let failedCall { return "could not \(failedCall): \(String(cString: strerror(errno)))" }
        switch (subject, errno) {
        case (.ipvsFamily, _):
            return "the kernel has no IPVS: load the ip_vs module (modprobe ip_vs)"
        case (.ipvsService(let scheduler?), ENOENT):
            return "unknown scheduler '\(scheduler)' (is ip_vs_\(scheduler) loaded?)"
        case (.ipvsService, ENOENT), (.ipvsService, ESRCH), (.ipvsDestination, ESRCH):
            return "no such service"
        case (.ipvsDestination, ENOENT):
            return "no such destination"
        case (.ipvsService, EINVAL):
            return "the kernel refused the service settings (EINVAL): check the fwmark (not 0), "
                + "the IPv6 netmask (1-128) and the scheduler flags"
        case (.ipvsDestination, ERANGE):
            return "weight or thresholds out of range (ERANGE): the weight must not be negative "
                + "and the lower threshold not above the upper"
        case (.ipvsDestination, EINVAL):
            return "the kernel refused the destination (EINVAL): mixed address families need tunnel forwarding"
        case (_, EPERM), (_, EACCES):
            return "permission denied (needs CAP_NET_ADMIN)"
        case (_, EEXIST):
            return "already exists"
        case (_, ENOENT), (_, ESRCH):
            return "no such object"
        case (_, ENODEV):
            return "no such device"
        case (_, ENOBUFS):
            return "the netlink socket overflowed (ENOBUFS); a full resync is needed"
        case (_, ETIMEDOUT):
            return "the kernel did not answer in time"
        case (_, EPROTO):
            return "the kernel's reply could not be read (EPROTO)"
        default:
            return String(cString: strerror(errno))
        }
    }
}

extension NetlinkError {
    /// An internal failure, named for the request that met it.
    init(operation: String, object: String, _ error: KernelErrno, subject: Subject = .other) {
        self.init(
            operation: operation, object: object, errno: error.errno, subject: subject,
            failedCall: error.failedCall)
    }

    /// For failures libnl reports with its own negative NLE_* code, where the
    /// kernel's errno is not at hand: the errno it most likely stands for.
    init(operation: String, object: String, libnlCode code: Int32, subject: Subject = .other) {
        self.init(operation: operation, object: object, errno: KernelErrno(libnlCode: code).errno, subject: subject)
    }
}
