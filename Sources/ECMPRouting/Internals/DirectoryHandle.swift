import Foundation

/// An open directory, and the path it was opened by (for messages only).
/// Every operation on an entry is relative to the descriptor (openat,
/// linkat, renameat, unlinkat) and none follows a symbolic link, so a user
/// who can write the directory cannot send a call made as root elsewhere
/// by swapping a name between two calls.
final class DirectoryHandle: Sendable {
    let descriptor: Int32
    let path: String

    private init(descriptor: Int32, path: String) {
        self.descriptor = descriptor
        self.path = path
    }

    // A directory descriptor has nothing to flush: close(2) cannot lose anything.
    deinit { close(descriptor) }

    /// Opens `path` as a directory; with `followingSymlink` false a
    /// symbolic link as its last component is refused (ELOOP).
    static func open(_ path: String, followingSymlink: Bool = false, purpose: String = "open the directory") throws
        -> DirectoryHandle
    {
        let flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC | (followingSymlink ? 0 : O_NOFOLLOW)
        let descriptor = try Syscall.check(purpose, path, Glibc.open(path, flags))
        return DirectoryHandle(descriptor: descriptor, path: path)
    }

    func entryPath(_ name: String) -> String { "\(path)/\(name)" }

    func status() throws -> stat {
        var info = stat()
        try Syscall.check("stat", path, fstat(descriptor, &info))
        return info
    }

    /// The entry's own status (a symbolic link is not followed), or nil
    /// when there is no such entry.
    func status(of name: String) throws -> stat? {
        var info = stat()
        if fstatat(descriptor, name, &info, AT_SYMLINK_NOFOLLOW) == 0 { return info }
        let code = errno
        if code == ENOENT { return nil }
        throw RoutingFileError.fileSystem(operation: "stat", path: entryPath(name), errno: code)
    }

    /// A subdirectory; a symbolic link in its place is refused.
    func openDirectory(_ name: String) throws -> DirectoryHandle {
        let flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW
        let descriptor = try Syscall.check("open the directory", entryPath(name), openat(self.descriptor, name, flags))
        return DirectoryHandle(descriptor: descriptor, path: entryPath(name))
    }

    /// A new 0700 subdirectory under an unpredictable name, owned by this
    /// process's user, opened. mkdirat(2) never follows a symbolic link
    /// planted at the name (EEXIST: another name is drawn). Another user
    /// who can write this directory may rename the new one away, or put a
    /// link or a directory of their own at its name, between mkdirat and
    /// openat: what is opened is checked to be a 0700 directory of this
    /// user's, and if it is not (or is gone) another name is drawn.
    func makePrivateDirectory(prefix: String) throws -> (name: String, handle: DirectoryHandle) {
        var lastError: Int32 = EEXIST
        for _ in 0..<16 {
            let name = prefix + Self.unpredictableSuffix()
            if mkdirat(descriptor, name, 0o700) != 0 {
                let code = errno
                if code == EEXIST { continue }
                let path = entryPath(name)
                throw RoutingFileError.fileSystem(operation: "create the staging directory", path: path, errno: code)
            }
            let handle: DirectoryHandle
            do {
                handle = try openDirectory(name)
            } catch RoutingFileError.fileSystem(_, _, let code) where [ENOENT, ENOTDIR, ELOOP].contains(code) {
                lastError = code
                continue
            }
            let info = try handle.status()
            guard info.st_uid == geteuid(), info.st_mode & 0o077 == 0 else {
                lastError = EEXIST
                continue
            }
            return (name, handle)
        }
        let operation = "create a staging directory (16 tries, each taken or replaced by another user) in"
        throw RoutingFileError.fileSystem(operation: operation, path: path, errno: lastError)
    }

    /// A new file, created exclusively: an existing entry at `name`,
    /// symbolic link or not, is an error (EEXIST), never opened.
    func createFile(_ name: String, mode: mode_t) throws -> OpenFile {
        let flags = O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC
        let descriptor = try Syscall.check("create", entryPath(name), openat(self.descriptor, name, flags, mode))
        return OpenFile(descriptor: descriptor, path: entryPath(name))
    }

    /// The file at `name` opened for reading, or nil when there is none.
    /// A symbolic link is not followed (ELOOP); O_NONBLOCK, so a FIFO
    /// planted at the name cannot hang the open (callers check the type).
    func openFile(_ name: String) throws -> OpenFile? {
        let descriptor = openat(self.descriptor, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        if descriptor >= 0 { return OpenFile(descriptor: descriptor, path: entryPath(name)) }
        let code = errno
        if code == ENOENT { return nil }
        throw RoutingFileError.fileSystem(operation: "open", path: entryPath(name), errno: code)
    }

    /// A hard link `other/newName` to the entry `name` itself (a symbolic
    /// link is linked, not followed); EEXIST if `newName` is taken.
    func link(_ name: String, to other: DirectoryHandle, as newName: String) throws {
        try Syscall.check(
            "link \(entryPath(name)) as", other.entryPath(newName),
            linkat(descriptor, name, other.descriptor, newName, 0))
    }

    /// Moves the entry `name` over `other/newName` in one step: readers of
    /// `newName` see the old file or the new one, never neither.
    func rename(_ name: String, to other: DirectoryHandle, as newName: String) throws {
        try Syscall.check(
            "rename \(entryPath(name)) to", other.entryPath(newName),
            renameat(descriptor, name, other.descriptor, newName))
    }

    func remove(_ name: String, directory: Bool = false) throws {
        try Syscall.check("remove", entryPath(name), unlinkat(descriptor, name, directory ? AT_REMOVEDIR : 0))
    }

    /// The names in the directory, "." and ".." left out.
    func names() throws -> [String] {
        // closedir closes the descriptor it was given: hand it a duplicate.
        let duplicate = try Syscall.check("duplicate the descriptor of", path, fcntl(descriptor, F_DUPFD_CLOEXEC, 0))
        guard let stream = fdopendir(duplicate) else {
            let code = errno
            close(duplicate)
            throw RoutingFileError.fileSystem(operation: "list", path: path, errno: code)
        }
        defer { closedir(stream) }
        var names: [String] = []
        while true {
            errno = 0
            guard let entry = readdir(stream) else {
                let code = errno
                if code != 0 { throw RoutingFileError.fileSystem(operation: "list", path: path, errno: code) }
                return names
            }
            let name = withUnsafeBytes(of: entry.pointee.d_name) {
                String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
    }

    /// Makes the directory's entries (renames, links) durable.
    func sync() throws {
        try Syscall.check("fsync", path, fsync(descriptor))
    }

    /// 16 characters from [a-z0-9] drawn from the system's random source
    /// (getrandom): about 82 bits, so no other user can guess the name and
    /// plant something there first.
    static func unpredictableSuffix() -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789")
        var generator = SystemRandomNumberGenerator()
        return String((0..<16).map { _ in alphabet[Int(generator.next(upperBound: UInt8(alphabet.count)))] })
    }
}
