import ECMPCore
import Foundation

/// A lock file in the state directory (drain.json.lock, run.lock): opened
/// with O_NOFOLLOW, so a symbolic link planted under its name never makes
/// root create or truncate a file elsewhere; created 0600 when missing; used
/// only when it is a regular file of ecmpd's user or root. The lock is an
/// flock on the open file, so it is released when the process ends, however
/// it ends. The descriptor is close-on-exec: the routing daemons' reload
/// commands ecmpd starts must not inherit (and hold) it.
public final class LockFile {
    public let path: String
    private var descriptor: Int32

    public init(path: String, trust: FileTrust = FileTrust(effectiveUser: geteuid())) throws(StateFileError) {
        self.path = path
        // O_CREAT without O_EXCL: an existing lock file is reused, but
        // O_NOFOLLOW still refuses a symbolic link, dangling or not.
        guard let opened = try TrustedOpen.open(path, flags: O_RDWR | O_CREAT, mode: 0o600, trust: trust) else {
            throw StateFileError("open lock file", path, errno: ENOENT)
        }
        do throws(StateFileError) {
            try TrustedOpen.handOver(opened, path: path, trust: trust)
        } catch {
            _ = Glibc.close(opened)
            throw error
        }
        descriptor = opened
    }

    deinit {
        if descriptor >= 0 { _ = Glibc.close(descriptor) }
    }

    /// Waits for the exclusive lock.
    public func lock() throws(StateFileError) {
        while flock(descriptor, LOCK_EX) != 0 {
            guard errno == EINTR else { throw StateFileError("lock", path, errno: errno) }
        }
    }

    /// Takes the exclusive lock if no one holds it; false when someone does.
    public func tryLock() throws(StateFileError) -> Bool {
        while flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            if errno == EWOULDBLOCK { return false }
            guard errno == EINTR else { throw StateFileError("lock", path, errno: errno) }
        }
        return true
    }

    /// The file's first bytes (at most `limit`), as text.
    public func contents(limit: Int = 64) throws(StateFileError) -> String {
        var buffer = [UInt8](repeating: 0, count: limit)
        let count = pread(descriptor, &buffer, limit, 0)
        guard count >= 0 else { throw StateFileError("read lock file", path, errno: errno) }
        return String(decoding: buffer[..<count], as: UTF8.self)
    }

    /// Replaces the file's contents with `text`: written over the old
    /// bytes, then cut to length, so a full disk, which would refuse a new
    /// block after a truncation to 0, still takes a pid of similar length.
    public func replaceContents(_ text: String) throws(StateFileError) {
        let bytes = Array(text.utf8)
        let written = pwrite(descriptor, bytes, bytes.count, 0)
        guard written == bytes.count else {
            throw StateFileError("write lock file", path, errno: written < 0 ? errno : EIO)
        }
        guard ftruncate(descriptor, off_t(bytes.count)) == 0 else {
            throw StateFileError("truncate lock file", path, errno: errno)
        }
    }

    /// Closes the file, which releases the lock.
    public func close() throws(StateFileError) {
        guard descriptor >= 0 else { return }
        let closing = descriptor
        descriptor = -1
        guard Glibc.close(closing) == 0 else { throw StateFileError("close lock file", path, errno: errno) }
    }
}
