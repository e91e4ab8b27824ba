import Foundation

/// Installs rendered routing configs as one set (zebra.conf, ospfd.conf
/// and, with BFD on, bfdd.conf): all files validated before any is replaced, each renamed over the old one, the previous version
/// kept as a timestamped backup, mode 0640 owned by the routing daemon's
/// user. When no file's content changed nothing is written at all, so the
/// caller skips reload.
///
/// The config folder is writable by group frr (Debian makes /etc/frr
/// frr:frr, deploy/tmpfiles.d adds group write), so a member of that group
/// can rename, replace or plant any name in it while ecmpd works there as
/// root. Hence nothing is done through a path in it: the folder is opened
/// once (a symbolic link refused) and checked for who can write it; new
/// versions are written, given their owner and mode (fchown, fchmod) and
/// validated through their descriptors, in a 0700 staging folder of
/// ecmpd's own under an unpredictable name, which no other user can enter;
/// every step in the config folder is a *at(2) call that follows no
/// symbolic link (renameat, linkat), and a backup name another user
/// planted is skipped for a fresh random one. If a later rename fails the
/// files renamed before it are put back, so the files on disk always
/// belong together.
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
    /// Called with each new version's descriptor before anything is
    /// replaced; throws to abort. The file lies in a folder only this
    /// process's user can enter: read it through the descriptor (a child
    /// that inherits it opens /proc/self/fd/N, as `FRRValidator` does).
    public var validate: (_ descriptor: Int32, _ daemon: String) throws -> Void
    /// Told of what went wrong after the files were installed (an fsync of
    /// the folder, a backup not pruned): the install itself stands.
    public var warn: (String) -> Void

    public init(
        directory: String, user: String, group: String, backups: Int, warn: @escaping (String) -> Void = { _ in },
        validate: @escaping (Int32, String) throws -> Void
    ) {
        self.directory = directory
        self.user = user
        self.group = group
        self.backups = backups
        self.warn = warn
        self.validate = validate
    }

    public static let mode: mode_t = 0o640
    static let stagingPrefix = ".ecmpd-install-"

    public func install(_ files: [File], now: Date = Date()) throws -> [String: Outcome] {
        let folder = try openConfigDirectory()
        var outcomes: [String: Outcome] = [:]
        var changed: [File] = []
        for file in files {
            if isInstalled(file, in: folder) { outcomes[file.name] = .unchanged } else { changed.append(file) }
        }
        if changed.isEmpty { return outcomes }

        let ownership = try resolveOwnership()
        let (stagingName, staging) = try folder.makePrivateDirectory(prefix: Self.stagingPrefix)
        defer { removeStaging(stagingName, staging, from: folder) }
        var staged: [OpenFile] = []
        for file in changed {
            let new = try staging.createFile(file.name, mode: 0o600)
            try new.write(Array(file.content.utf8))
            try new.sync()
            // Before validating: FRR's daemons read their `-C` file after
            // dropping to user frr, so a 0600 root file would check nothing.
            try give(new, ownership)
            try new.changeMode(Self.mode)
            staged.append(new)
        }
        for (file, new) in zip(changed, staged) { try validate(new.descriptor, file.daemon) }

        var previous: Set<String> = []
        for file in changed where try keepPrevious(file.name, of: folder, in: staging, ownership) {
            previous.insert(file.name)
        }
        var backupNames: [String: String] = [:]
        if backups > 0 {
            for file in changed where previous.contains(file.name) {
                backupNames[file.name] = try backUp(file.name, from: staging, into: folder, now: now)
            }
        }
        var renamed: [String] = []
        for file in changed {
            do {
                try staging.rename(file.name, to: folder, as: file.name)
            } catch {
                let backups = Array(backupNames.values)
                throw putBack(renamed, previous: previous, backups: backups, staging, folder, cause: error)
            }
            renamed.append(file.name)
        }
        for file in changed { outcomes[file.name] = .installed(backup: backupNames[file.name].map(folder.entryPath)) }
        do { try folder.sync() } catch { warn("\(folder.path): installed, but not yet durable: \(error)") }
        if backups > 0 {
            for file in changed where previous.contains(file.name) {
                do { try prune(file.name, in: folder) } catch {
                    warn("old backups of \(file.name) not removed: \(error)")
                }
            }
        }
        return outcomes
    }

    /// Whether `directory/NAME` is a regular file holding exactly `file`'s
    /// content. Anything else, a symbolic link or a file that cannot be
    /// read included, counts as changed: the install then replaces it.
    func isInstalled(_ file: File, in folder: DirectoryHandle) -> Bool {
        let content = Array(file.content.utf8)
        guard let current = try? folder.openFile(file.name), let info = try? current.status(),
            info.st_mode & S_IFMT == S_IFREG, Int(info.st_size) == content.count
        else { return false }
        return (try? current.readAll()) == content
    }

    /// The config folder, opened once: a symbolic link is refused, and so
    /// is a folder that users other than root, the routing daemon's user
    /// and group, and ecmpd's own user can write.
    func openConfigDirectory() throws -> DirectoryHandle {
        let folder: DirectoryHandle
        do {
            folder = try DirectoryHandle.open(directory, purpose: "open the routing config directory")
        } catch RoutingFileError.fileSystem(_, _, let code) where code == ELOOP {
            throw RoutingFileError.unsafeConfigDirectory(
                path: directory,
                reason: "it is a symbolic link; name the directory it points to (routing.config_dir, --write)")
        }
        let info = try folder.status()
        let routingUser = getpwnam(user)?.pointee.pw_uid
        let routingGroup = getgrnam(group)?.pointee.gr_gid
        let owners: Set<uid_t> = Set([0, geteuid()] + (routingUser.map { [$0] } ?? []))
        if let reason = Self.unsafeReason(
            owner: info.st_uid, group: info.st_gid, mode: info.st_mode,
            trustedOwners: owners, routingGroup: routingGroup)
        {
            throw RoutingFileError.unsafeConfigDirectory(path: directory, reason: reason)
        }
        return folder
    }

    /// Why a config folder with this owner, group and mode lets a user
    /// other than the trusted ones write it, or nil when it does not.
    static func unsafeReason(owner: uid_t, group: gid_t, mode: mode_t, trustedOwners: Set<uid_t>, routingGroup: gid_t?)
        -> String?
    {
        let shown = "mode " + String(format: "%04o", mode & 0o7777)
        if mode & S_IWOTH != 0 { return "it is writable by every user (\(shown))" }
        if mode & S_IWGRP != 0 && group != routingGroup {
            return "it is writable by group \(groupName(group)) (\(shown)), which is not the routing daemon's group"
        }
        if !trustedOwners.contains(owner) {
            return "it is owned by user \(userName(owner)), who is neither root, the routing daemon's user nor ecmpd's"
        }
        return nil
    }

    static func userName(_ uid: uid_t) -> String {
        getpwuid(uid).map { "\(String(cString: $0.pointee.pw_name)) (uid \(uid))" } ?? "uid \(uid)"
    }

    static func groupName(_ gid: gid_t) -> String {
        getgrgid(gid).map { "\(String(cString: $0.pointee.gr_name)) (gid \(gid))" } ?? "gid \(gid)"
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
        guard let account = getpwnam(user) else {
            throw RoutingFileError.writeFailed(path: directory, reason: "no such user \(user) (routing.user)")
        }
        let uid = account.pointee.pw_uid
        guard let groupEntry = getgrnam(group) else {
            throw RoutingFileError.writeFailed(path: directory, reason: "no such group \(group) (routing.group)")
        }
        return (uid, groupEntry.pointee.gr_gid)
    }

    /// Sets the resolved owner and group on the open file; skips the call
    /// when it has them already (a file created in a setgid folder).
    private func give(_ file: OpenFile, _ ownership: (uid: uid_t?, gid: gid_t)?) throws {
        guard let ownership else { return }
        let info = try file.status()
        if info.st_gid == ownership.gid && (ownership.uid == nil || info.st_uid == ownership.uid) { return }
        try file.changeOwner(
            uid: ownership.uid, gid: ownership.gid,
            describedAs: ownership.uid == nil ? ":\(group)" : "\(user):\(group)")
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

    static func previousName(_ name: String) -> String { "previous-\(name)" }

    /// Keeps the version now installed as `name` in the staging folder, to
    /// put it back if the pair cannot be installed and to back it up; false
    /// when there is none. A hard link, or where fs.protected_hardlinks (on
    /// by default) forbids linking a file another user owns without write
    /// access to it (a non-root ecmpd over files root or FRR wrote), a copy.
    private func keepPrevious(
        _ name: String, of folder: DirectoryHandle, in staging: DirectoryHandle,
        _ ownership: (uid: uid_t?, gid: gid_t)?
    ) throws -> Bool {
        guard try folder.status(of: name) != nil else { return false }
        do {
            try folder.link(name, to: staging, as: Self.previousName(name))
            return true
        } catch RoutingFileError.fileSystem(_, _, let code) where code == EPERM {
            guard let source = try folder.openFile(name), try source.status().st_mode & S_IFMT == S_IFREG else {
                throw RoutingFileError.writeFailed(
                    path: folder.entryPath(name),
                    reason: "keep the previous version: neither a link nor a regular file to copy")
            }
            let copy = try staging.createFile(Self.previousName(name), mode: 0o600)
            try copy.write(try source.readAll())
            try copy.sync()
            try give(copy, ownership)
            try copy.changeMode(Self.mode)
            return true
        }
    }

    /// Links the kept previous version into the folder as
    /// NAME.YYYYmmddTHHMMSS, or, when that name is taken (a second install
    /// within the second, or a name another user planted), as
    /// NAME.YYYYmmddTHHMMSS-RANDOM: linkat(2) neither follows nor replaces
    /// what is at the name. Returns the name used.
    private func backUp(_ name: String, from staging: DirectoryHandle, into folder: DirectoryHandle, now: Date) throws
        -> String
    {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss"
        let stamped = "\(name).\(formatter.string(from: now))"
        var candidate = stamped
        for _ in 0..<16 {
            do {
                try staging.link(Self.previousName(name), to: folder, as: candidate)
                return candidate
            } catch RoutingFileError.fileSystem(_, _, let code) where code == EEXIST {
                candidate = "\(stamped)-\(DirectoryHandle.unpredictableSuffix())"
            }
        }
        throw RoutingFileError.fileSystem(
            operation: "back up the previous version (16 names taken) as",
            path: folder.entryPath(stamped), errno: EEXIST)
    }

    /// After a failed rename: the files already renamed get their previous
    /// version back (or are removed, if there was none), and the backups of
    /// this install go. Returns the error to throw: `cause`, or both.
    private func putBack(
        _ renamed: [String], previous: Set<String>, backups: [String], _ staging: DirectoryHandle,
        _ folder: DirectoryHandle, cause: Error
    ) -> Error {
        var failures: [String] = []
        for name in renamed.reversed() {
            do {
                if previous.contains(name) {
                    try staging.rename(Self.previousName(name), to: folder, as: name)
                } else {
                    try folder.remove(name)
                }
            } catch {
                failures.append("\(error)")
            }
        }
        for backup in backups {
            do { try folder.remove(backup) } catch { failures.append("\(error)") }
        }
        do { try folder.sync() } catch { failures.append("\(error)") }
        guard !failures.isEmpty else { return cause }
        let reason = "\(cause); and putting the previous files back failed: \(failures.joined(separator: "; "))"
        return RoutingFileError.writeFailed(path: folder.path, reason: reason)
    }

    /// Removes the oldest backups of `name` beyond `backups`: the regular
    /// files NAME.<digit>…, by name (the timestamp). Anything else at such
    /// a name is not ecmpd's and stays.
    private func prune(_ name: String, in folder: DirectoryHandle) throws {
        let backupNames = try folder.names().filter {
            $0.hasPrefix(name + ".") && $0.dropFirst(name.count + 1).first?.isNumber == true
        }
        let regular = try backupNames.filter {
            try folder.status(of: $0).map { $0.st_mode & S_IFMT == S_IFREG } ?? false
        }
        for old in regular.sorted().dropLast(backups) { try folder.remove(old) }
    }

    /// Empties and removes the staging folder; if another user renamed it
    /// away, it is left where it went (empty).
    private func removeStaging(_ name: String, _ staging: DirectoryHandle, from folder: DirectoryHandle) {
        do {
            for entry in try staging.names() { try staging.remove(entry) }
            let ours = try staging.status()
            if let there = try folder.status(of: name), there.st_dev == ours.st_dev, there.st_ino == ours.st_ino {
                try folder.remove(name, directory: true)
            } else {
                warn(
                    "the staging directory \(folder.entryPath(name)) was moved by another user; left (empty) where it went"
                )
            }
        } catch {
            warn("the staging directory \(folder.entryPath(name)) was not removed: \(error)")
        }
    }
}
