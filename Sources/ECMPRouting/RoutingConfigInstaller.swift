import Foundation

/// Installs rendered routing configs: all files validated before any is
/// replaced, each written to a temporary file in the same directory and
/// renamed over the old one, the previous version kept as a timestamped
/// backup, mode 0640 owned by the routing daemon's user. When no file's
/// content changed nothing is written at all, so the caller skips reload.
public struct RoutingConfigInstaller {
    public struct File: Sendable {
        public var daemon: String
        public var content: String
        public init(daemon: String, content: String) {
            self.daemon = daemon
            self.content = content
        }
        public var name: String { "\(daemon).conf" }
    }

    public enum Outcome: Equatable, Sendable {
        case unchanged
        case installed(backup: String?)
    }

    public var directory: String
    public var user: String
    public var group: String
    public var backups: Int
    /// Called on each temporary file before anything is renamed; throws to abort.
    public var validate: (_ path: String, _ daemon: String) throws -> Void

    public init(directory: String, user: String, group: String, backups: Int, validate: @escaping (String, String) throws -> Void) {
        self.directory = directory
        self.user = user
        self.group = group
        self.backups = backups
        self.validate = validate
    }

    public static let mode: mode_t = 0o640

    public func install(_ files: [File], now: Date = Date()) throws -> [String: Outcome] {
        var outcomes: [String: Outcome] = [:]
        let changed = files.filter { file in
            let current = FileManager.default.contents(atPath: path(file.name))
            let same = current == Data(file.content.utf8)
            if same { outcomes[file.name] = .unchanged }
            return !same
        }
        if changed.isEmpty { return outcomes }

        var staged: [(file: File, temporary: String)] = []
        defer { for entry in staged { unlink(entry.temporary) } }
        for file in changed {
            let temporary = try writeTemporary(file)
            staged.append((file, temporary))
        }
        for entry in staged { try validate(entry.temporary, entry.file.daemon) }
        let ownership = try resolveOwnership()
        for entry in staged {
            if let ownership, chown(entry.temporary, ownership.uid, ownership.gid) != 0 {
                throw RoutingFileError.writeFailed(path: entry.temporary, reason: "chown \(user):\(group): \(String(cString: strerror(errno)))")
            }
            chmod(entry.temporary, Self.mode)
        }
        for entry in staged {
            let target = path(entry.file.name)
            let backup = try backUp(target, now: now)
            guard rename(entry.temporary, target) == 0 else {
                throw RoutingFileError.writeFailed(path: target, reason: "rename: \(String(cString: strerror(errno)))")
            }
            outcomes[entry.file.name] = .installed(backup: backup)
        }
        staged.removeAll()
        syncDirectory()
        return outcomes
    }

    func path(_ name: String) -> String { "\(directory)/\(name)" }

    private func writeTemporary(_ file: File) throws -> String {
        var template = Array("\(directory)/.\(file.name).ecmpd-XXXXXX".utf8CString)
        let descriptor = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        let temporary = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        guard descriptor >= 0 else {
            throw RoutingFileError.writeFailed(path: path(file.name), reason: "create temporary file: \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        fchmod(descriptor, 0o600)
        let bytes = Array(file.content.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
            guard written > 0 else {
                unlink(temporary)
                throw RoutingFileError.writeFailed(path: temporary, reason: String(cString: strerror(errno)))
            }
            offset += written
        }
        guard fsync(descriptor) == 0 else {
            unlink(temporary)
            throw RoutingFileError.writeFailed(path: temporary, reason: "fsync: \(String(cString: strerror(errno)))")
        }
        return temporary
    }

    /// The daemon's user and group, or nil when ecmpd is not root and can
    /// only create files as itself (tests, dry runs in a scratch folder).
    private func resolveOwnership() throws -> (uid: uid_t, gid: gid_t)? {
        guard geteuid() == 0 else { return nil }
        guard let account = getpwnam(user) else { throw RoutingFileError.writeFailed(path: directory, reason: "no such user \(user) (routing.user)") }
        guard let groupEntry = getgrnam(group) else { throw RoutingFileError.writeFailed(path: directory, reason: "no such group \(group) (routing.group)") }
        return (account.pointee.pw_uid, groupEntry.pointee.gr_gid)
    }

    /// Hard-links the current file to NAME.YYYYmmddTHHMMSS and prunes the
    /// oldest beyond `backups`.
    private func backUp(_ target: String, now: Date) throws -> String? {
        guard backups > 0, FileManager.default.fileExists(atPath: target) else { return nil }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss"
        var backup = "\(target).\(formatter.string(from: now))"
        var counter = 1
        while FileManager.default.fileExists(atPath: backup) {
            backup = "\(target).\(formatter.string(from: now))-\(counter)"
            counter += 1
        }
        guard link(target, backup) == 0 else {
            throw RoutingFileError.writeFailed(path: backup, reason: "back up the previous version: \(String(cString: strerror(errno)))")
        }
        let name = URL(fileURLWithPath: target).lastPathComponent
        let existing = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        let all = existing.filter { $0.hasPrefix(name + ".") && $0.dropFirst(name.count + 1).first?.isNumber == true }.sorted()
        for old in all.dropLast(backups) { unlink("\(directory)/\(old)") }
        return backup
    }

    private func syncDirectory() {
        let descriptor = open(directory, O_RDONLY | O_DIRECTORY)
        if descriptor >= 0 {
            fsync(descriptor)
            close(descriptor)
        }
    }
}
