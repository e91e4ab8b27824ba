import ECMPCore
import Foundation

/// A small JSON file in which a command records what it changed, so a
/// later run undoes exactly that. Written atomically (temporary file in the
/// same directory, fsync, rename, fsync of the directory) with mode 0600: a
/// crash leaves the old record or the new one, never half of either.
/// Read only when it is a regular file owned by ecmpd's user or root, and
/// never through a symbolic link (`TrustedOpen`): the record decides which
/// addresses leave lo and which VIPs are drained. Root writing for ecmpd's
/// user (`ecmpd drain` under the systemd unit) gives the file to that user,
/// who could not read a 0600 file of root's.
public struct StateFile<Record: Codable> {
    public init(path: String, trust: FileTrust = FileTrust(effectiveUser: geteuid())) {
        self.path = path
        self.trust = trust
    }

    public var path: String
    /// Whose file is read: a symbolic link, or a file another user wrote
    /// into the state directory, is refused (`StateFileError.isRefusal`).
    public var trust: FileTrust

    public typealias Failure = StateFileError

    /// Records are a few hundred bytes; anything far larger was not written by ecmpd.
    static var sizeLimit: Int { 1 << 20 }

    /// The record, or nil when the file does not exist.
    public func read() throws(Failure) -> Record? {
        guard let descriptor = try TrustedOpen.open(path, flags: O_RDONLY, trust: trust) else { return nil }
        // Read-only: a failed close cannot lose data, so its result is not an error.
        defer { _ = close(descriptor) }
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let count = Glibc.read(descriptor, &buffer, buffer.count)
            if count < 0 {
                if errno == EINTR { continue }
                throw Failure("read state file", path, errno: errno)
            }
            if count == 0 { break }
            data.append(contentsOf: buffer[..<count])
            guard data.count <= Self.sizeLimit else {
                throw Failure(
                    "read state file", path,
                    reason: "larger than \(Self.sizeLimit) bytes; not a record this ecmpd wrote")
            }
        }
        do {
            return try JSONDecoder().decode(Record.self, from: data)
        } catch {
            throw Failure(
                "read state file", path, reason: "not a record this ecmpd wrote (\(error)); move it away to start over")
        }
    }

    public func write(_ record: Record) throws(Failure) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data: Data
        do { data = try encoder.encode(record) + Data("\n".utf8) } catch {
            throw Failure("encode state for", path, reason: "\(error)")
        }
        let directory =
            (path as NSString).deletingLastPathComponent.isEmpty ? "." : (path as NSString).deletingLastPathComponent
        if mkdir(directory, 0o700) != 0, errno != EEXIST { throw Failure("create directory for", path, errno: errno) }
        var template = Array("\(directory)/.\((path as NSString).lastPathComponent).XXXXXX".utf8CString)
        let descriptor = mkstemp(&template)
        guard descriptor >= 0 else { throw Failure("create temporary file for", path, errno: errno) }
        let temporary = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
        var closed = false
        defer {
            if !closed { close(descriptor) }
            unlink(temporary)
        }
        let written = data.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
        guard written == data.count else { throw Failure("write", temporary, errno: written < 0 ? errno : EIO) }
        guard fchmod(descriptor, 0o600) == 0 else { throw Failure("set mode 0600 on", temporary, errno: errno) }
        try TrustedOpen.handOver(descriptor, path: temporary, trust: trust)
        guard fsync(descriptor) == 0 else { throw Failure("sync", temporary, errno: errno) }
        closed = true
        guard close(descriptor) == 0 else { throw Failure("close", temporary, errno: errno) }
        guard rename(temporary, path) == 0 else { throw Failure("replace", path, errno: errno) }
        try syncDirectory(directory)
    }

    /// Removes the file; a missing file is fine.
    public func remove() throws(Failure) {
        if unlink(path) != 0, errno != ENOENT { throw Failure("remove state file", path, errno: errno) }
        try syncDirectory((path as NSString).deletingLastPathComponent)
    }

    private func syncDirectory(_ directory: String) throws(Failure) {
        let name = directory.isEmpty ? "." : directory
        let descriptor = open(name, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { throw Failure("open directory to sync", name, errno: errno) }
        defer { _ = close(descriptor) }
        guard fsync(descriptor) == 0 else { throw Failure("sync directory", name, errno: errno) }
    }
}
