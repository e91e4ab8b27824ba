import Foundation

/// Installs rendered routing configs: all files validated before any is
/// replaced, each written to a temporary file in the same directory and
/// renamed over the old one, the previous version kept as a timestamped
/// backup, mode 0640 owned by the routing daemon's user. When no file's
/// content changed nothing is written at all, so the caller skips reload.
///
/// As root the files get `user:group`. As any other user (the systemd
/// unit's `ecmpd`, a member of `frr`) they stay owned by that user and get
/// `group`: chown(2) lets an owner give a file to a group it belongs to
/// without CAP_CHOWN, and FRR reads its files through that group.
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
            try give(entry.temporary, ownership)
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

    /// Who the installed files belong to: as root the daemon's user and
    /// group; otherwise this user (`uid` nil: left as is) and the group,
    /// or nil when this user is not in that group (tests and dry runs in a
    /// scratch folder, whose files FRR never reads).
    private func resolveOwnership() throws -> (uid: uid_t?, gid: gid_t)? {
        guard geteuid() == 0 else {
            guard let groupEntry = getgrnam(group), Self.isMember(of: groupEntry.pointee.gr_gid) else { return nil }
            return (nil, groupEntry.pointee.gr_gid)
        }
        guard let account = getpwnam(user) else { throw RoutingFileError.writeFailed(path: directory, reason: "no such user \(user) (routing.user)") }
        guard let groupEntry = getgrnam(group) else { throw RoutingFileError.writeFailed(path: directory, reason: "no such group \(group) (routing.group)") }
        return (account.pointee.pw_uid, groupEntry.pointee.gr_gid)
    }

    /// Sets the resolved owner and group; skips the call when the file
    /// has them already (a file created by a member of a setgid folder).
    private func give(_ path: String, _ ownership: (uid: uid_t?, gid: gid_t)?) throws {
        guard let ownership else { return }
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw RoutingFileError.writeFailed(path: path, reason: "stat: \(String(cString: strerror(errno)))")
        }
        if info.st_gid == ownership.gid && (ownership.uid == nil || info.st_uid == ownership.uid) { return }
        // uid_t(bitPattern: -1) leaves the owner as it is.
        guard chown(path, ownership.uid ?? uid_t(bitPattern: -1), ownership.gid) == 0 else {
            let owner = ownership.uid == nil ? ":\(group)" : "\(user):\(group)"
            throw RoutingFileError.writeFailed(path: path, reason: "chown \(owner): \(String(cString: strerror(errno)))")
        }
    }

    /// Whether this process has `gid` as its effective or a supplementary group.
    static func isMember(of gid: gid_t) -> Bool {
        if getegid() == gid { return true }
        let count = getgroups(0, nil)
        guard count > 0 else { return false }
        var groups = [gid_t](repeating: 0, count: Int(count))
        let filled = getgroups(count, &groups)
        return groups.prefix(max(0, Int(filled))).contains(gid)
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
        if link(target, backup) != 0 {
            // fs.protected_hardlinks (on by default) lets only a file's owner
            // link it without write access: the first install by a non-root
            // ecmpd over files root or FRR wrote. A copy serves as well.
            guard errno == EPERM else {
                throw RoutingFileError.writeFailed(path: backup, reason: "back up the previous version: \(String(cString: strerror(errno)))")
            }
            try copy(target, to: backup)
            try give(backup, try resolveOwnership())
        }
        let name = URL(fileURLWithPath: target).lastPathComponent
        let existing = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        let all = existing.filter { $0.hasPrefix(name + ".") && $0.dropFirst(name.count + 1).first?.isNumber == true }.sorted()
        for old in all.dropLast(backups) { unlink("\(directory)/\(old)") }
        return backup
    }

    /// A new file `destination` (mode 0640) with the content of `source`.
    private func copy(_ source: String, to destination: String) throws {
        func failed(_ step: String) -> RoutingFileError {
            .writeFailed(path: destination, reason: "back up the previous version (a copy: \(step)): \(String(cString: strerror(errno)))")
        }
        guard let content = FileManager.default.contents(atPath: source) else { throw failed("read \(source)") }
        let descriptor = open(destination, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, Self.mode)
        guard descriptor >= 0 else { throw failed("create") }
        defer { close(descriptor) }
        let written = content.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        guard written == content.count else {
            unlink(destination)
            throw failed("write")
        }
    }

    private func syncDirectory() {
        let descriptor = open(directory, O_RDONLY | O_DIRECTORY)
        if descriptor >= 0 {
            fsync(descriptor)
            close(descriptor)
        }
    }
}
