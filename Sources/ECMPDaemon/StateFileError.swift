import ECMPCore
import Foundation

/// A state file (or its lock) that could not be used: what was attempted,
/// on which path, and why (errno's text and number, or the reason ecmpd
/// refused to trust it).
public struct StateFileError: Error, Sendable, CustomStringConvertible {
    public var operation: String
    public var path: String
    public var reason: String
    /// The file is there but not trusted: a symbolic link, not a regular
    /// file, or another user's (`FileTrust`). Logged and never obeyed.
    public var isRefusal: Bool
    /// errno, when a system call failed.
    public var code: Int32?

    public var description: String { "\(operation) \(path): \(reason)" }

    init(_ operation: String, _ path: String, errno code: Int32) {
        self.init(operation, path, reason: "\(String(cString: strerror(code))) (errno \(code))")
        self.code = code
    }

    init(_ operation: String, _ path: String, reason: String, isRefusal: Bool = false) {
        self.operation = operation
        self.path = path
        self.reason = reason
        self.isRefusal = isRefusal
    }

    /// A file ecmpd will not trust, and what to do about it.
    static func refused(_ path: String, _ why: String) -> StateFileError {
        StateFileError("refused state file", path, reason: "\(why); not obeyed: remove it", isRefusal: true)
    }
}

/// Opening and vetting files in the state directory: never through a
/// symbolic link (O_NOFOLLOW), never blocking on a FIFO someone left there,
/// and only a regular file owned by ecmpd's user or root.
enum TrustedOpen {
    /// Root working in the state directory of another user (`ecmpd drain`
    /// as root, the daemon running as user ecmpd: `StateDirectory.forOperator`)
    /// gives what it creates there to that user: a 0600 file of root's would
    /// be unreadable to the daemon, and a lock file unopenable. Through the
    /// descriptor, so no name planted meanwhile is changed instead.
    static func handOver(_ descriptor: Int32, path: String, trust: FileTrust) throws(StateFileError) {
        guard geteuid() == 0, trust.effectiveUser != 0 else { return }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw StateFileError("inspect", path, errno: errno) }
        guard info.st_uid == 0 else { return }
        guard fchown(descriptor, trust.effectiveUser, gid_t.max) == 0 else {
            throw StateFileError("give to uid \(trust.effectiveUser)", path, errno: errno)
        }
    }

    /// A descriptor for `path`, or nil when it does not exist (and `flags`
    /// has no O_CREAT). The caller closes it.
    static func open(
        _ path: String, flags: Int32, mode: mode_t = 0o600, trust: FileTrust
    ) throws(StateFileError) -> Int32? {
        let descriptor = Glibc.open(path, flags | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, mode)
        guard descriptor >= 0 else {
            let code = errno
            if code == ENOENT && flags & O_CREAT == 0 { return nil }
            // O_NOFOLLOW on a symbolic link as the last component: ELOOP.
            if code == ELOOP {
                throw .refused(path, "it is a symbolic link (ecmpd never follows one in its state directory)")
            }
            throw StateFileError("open", path, errno: code)
        }
        do throws(StateFileError) {
            try vet(descriptor, path: path, trust: trust)
        } catch {
            Glibc.close(descriptor)
            throw error
        }
        return descriptor
    }

    static func vet(_ descriptor: Int32, path: String, trust: FileTrust) throws(StateFileError) {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw StateFileError("inspect", path, errno: errno) }
        guard info.st_mode & S_IFMT == S_IFREG else { throw .refused(path, "it is not a regular file") }
        guard trust.trusts(owner: info.st_uid) else {
            let me =
                trust.effectiveUser == 0
                ? "root" : "ecmpd's user (\(Account.describe(trust.effectiveUser))) or root"
            throw .refused(path, "it belongs to \(Account.describe(info.st_uid)), not to \(me)")
        }
    }
}
