import Foundation

/// A small JSON file in which a command records what it changed, so a
/// later run undoes exactly that. Written atomically (temporary file in the
/// same directory, fsync, rename, fsync of the directory) with mode 0600: a
/// crash leaves the old record or the new one, never half of either.
public struct StateFile<Record: Codable> {
    public init(path: String) { self.path = path }

    public var path: String

    public struct Failure: Error, CustomStringConvertible {
        public var operation: String
        public var path: String
        public var reason: String
        public var description: String { "\(operation) \(path): \(reason)" }

        init(_ operation: String, _ path: String, errno: Int32) {
            self.init(operation, path, reason: String(cString: strerror(errno)))
        }

        init(_ operation: String, _ path: String, reason: String) {
            self.operation = operation
            self.path = path
            self.reason = reason
        }
    }

    /// The record, or nil when the file does not exist.
    public func read() throws(Failure) -> Record? {
        guard let data = FileManager.default.contents(atPath: path) else {
            if access(path, F_OK) != 0, errno == ENOENT { return nil }
            throw Failure("read state file", path, errno: errno == 0 ? EACCES : errno)
        }
        do {
            return try JSONDecoder().decode(Record.self, from: data)
        } catch {
            throw Failure("read state file", path, reason: "not a record this ecmpd wrote (\(error)); move it away to start over")
        }
    }

    public func write(_ record: Record) throws(Failure) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data: Data
        do { data = try encoder.encode(record) + Data("\n".utf8) } catch {
            throw Failure("encode state for", path, reason: "\(error)")
        }
        let directory = (path as NSString).deletingLastPathComponent.isEmpty ? "." : (path as NSString).deletingLastPathComponent
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
        guard fsync(descriptor) == 0 else { throw Failure("sync", temporary, errno: errno) }
        closed = true
        guard close(descriptor) == 0 else { throw Failure("close", temporary, errno: errno) }
        guard rename(temporary, path) == 0 else { throw Failure("replace", path, errno: errno) }
        syncDirectory(directory)
    }

    /// Removes the file; a missing file is fine.
    public func remove() throws(Failure) {
        if unlink(path) != 0, errno != ENOENT { throw Failure("remove state file", path, errno: errno) }
        syncDirectory((path as NSString).deletingLastPathComponent)
    }

    private func syncDirectory(_ directory: String) {
        let descriptor = open(directory.isEmpty ? "." : directory, O_RDONLY | O_DIRECTORY)
        guard descriptor >= 0 else { return }
        fsync(descriptor)
        close(descriptor)
    }
}
