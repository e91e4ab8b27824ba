import ECMPCore
import Foundation

/// The event database's files, vetted before SQLite opens them. Left to
/// itself, SQLite follows a symbolic link at the database's path (and puts
/// -wal and -shm beside the link's target), adopts any file it finds there,
/// and creates the database 0644 under umask 022. So the store creates
/// history.sqlite itself (O_CREAT|O_EXCL|O_NOFOLLOW, 0600), refuses a
/// symbolic link, a non-regular file or another user's file at the path or
/// at its -wal or -shm, and narrows an existing file's mode to 0600. SQLite
/// creates -wal and -shm with the database file's mode and fchmods them to
/// it whatever the umask (os_unix.c: findCreateFileMode, robust_open), so
/// they are 0600 too. Nothing can swap a file between this check and
/// SQLite's open: the state directory lets no one else write it
/// (`StateDirectory`). Files are inspected with lstat rather than opened,
/// because closing a descriptor would drop the POSIX locks SQLite holds on
/// the same file.
enum DatabaseFile {
    static let companions = ["-wal", "-shm"]

    /// Creates the database file 0600 if it is missing and vets it and its companions.
    static func prepare(_ path: String, trust: FileTrust) throws(EventStoreError) {
        let created = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        if created >= 0 {
            // A new empty file: SQLite makes it a database. Nothing else has it open.
            guard close(created) == 0 else { throw failure(path, "close the new database file", errno) }
        } else if errno != EEXIST {
            throw failure(path, "create the database file", errno)
        }
        try vet(path, trust: trust)
        for suffix in companions { try vet(path + suffix, trust: trust, mayBeMissing: true) }
    }

    /// For readers (`ecmpd history`): never open the database through a symbolic link.
    static func refuseSymbolicLink(_ path: String) throws(EventStoreError) {
        var info = stat()
        guard lstat(path, &info) == 0 else { return }  // SQLite reports a missing file in its own words.
        if info.st_mode & S_IFMT == S_IFLNK { throw refusal(path, "it is a symbolic link (never followed)") }
    }

    private static func vet(_ path: String, trust: FileTrust, mayBeMissing: Bool = false) throws(EventStoreError) {
        var info = stat()
        guard lstat(path, &info) == 0 else {
            if errno == ENOENT && mayBeMissing { return }
            throw failure(path, "inspect", errno)
        }
        switch info.st_mode & S_IFMT {
        case S_IFREG: break
        case S_IFLNK: throw refusal(path, "it is a symbolic link (ecmpd never follows one in its state directory)")
        default: throw refusal(path, "it is not a regular file")
        }
        guard trust.trusts(owner: info.st_uid) else {
            throw refusal(
                path,
                "it belongs to uid \(info.st_uid), not to ecmpd's user (uid \(trust.effectiveUser)) or root")
        }
        if info.st_mode & 0o7777 != 0o600, fchmodat(AT_FDCWD, path, 0o600, AT_SYMLINK_NOFOLLOW) != 0 {
            throw failure(path, "set mode 0600 on", errno)
        }
    }

    private static func refusal(_ path: String, _ why: String) -> EventStoreError {
        EventStoreError(operation: .open, path: path, message: "refused: \(why); remove it")
    }

    private static func failure(_ path: String, _ operation: String, _ code: Int32) -> EventStoreError {
        EventStoreError(
            operation: .open, path: path,
            message: "\(operation): \(String(cString: strerror(code))) (errno \(code))")
    }
}
