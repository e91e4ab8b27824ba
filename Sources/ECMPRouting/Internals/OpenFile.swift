import Foundation

/// An open regular file and the path it was opened by (for messages
/// only). Ownership, mode and content are set on the descriptor (fchown,
/// fchmod, write), so they reach the file that was opened whatever its
/// name refers to by then.
final class OpenFile: Sendable {
    let descriptor: Int32
    let path: String

    init(descriptor: Int32, path: String) {
        self.descriptor = descriptor
        self.path = path
    }

    // Nothing is lost to an unchecked close(2): written files were fsync'ed
    // (which reports any write error), and Linux frees the descriptor even
    // when close reports one.
    deinit { close(descriptor) }

    func status() throws -> stat {
        var info = stat()
        try Syscall.check("stat", path, fstat(descriptor, &info))
        return info
    }

    func write(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
            if written < 0 && errno == EINTR { continue }
            try Syscall.check("write", path, written)
            offset += written
        }
    }

    /// The whole file from its start.
    func readAll() throws -> [UInt8] {
        var content: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let offset = off_t(content.count)
            let count = chunk.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, $0.count, offset) }
            if count < 0 && errno == EINTR { continue }
            try Syscall.check("read", path, count)
            if count == 0 { return content }
            content += chunk.prefix(count)
        }
    }

    func sync() throws {
        try Syscall.check("fsync", path, fsync(descriptor))
    }

    /// `uid` nil leaves the owner as it is.
    func changeOwner(uid: uid_t?, gid: gid_t, describedAs owner: String) throws {
        // uid_t(bitPattern: -1) leaves the owner as it is (chown(2)).
        try Syscall.check("chown \(owner)", path, fchown(descriptor, uid ?? uid_t(bitPattern: -1), gid))
    }

    func changeMode(_ mode: mode_t) throws {
        try Syscall.check("chmod \(String(mode, radix: 8))", path, fchmod(descriptor, mode))
    }
}
