import ECMPCore
import Foundation

/// `node.state_dir`, where ecmpd keeps what it must find again after a
/// restart: drain.json (obeyed every cycle), loopback.json (which addresses
/// on lo it may remove), their locks, run.lock and history.sqlite. Whoever
/// can add or replace a file there steers a process that runs as root or
/// with CAP_NET_ADMIN, so `ecmpd run` creates it 0700 and refuses to start
/// while a user other than its own (or root) can write it or any directory
/// above it (`FileTrust`).
public struct StateDirectory: Sendable {
    public let path: String
    public let trust: FileTrust

    public init(_ path: String, trust: FileTrust = FileTrust(effectiveUser: geteuid())) {
        self.path = path
        self.trust = trust
    }

    /// For a command an operator runs against the daemon's state directory
    /// (`ecmpd drain` as root): besides root, it trusts the directory's
    /// owner, the user `ecmpd run` runs as (systemd's `StateDirectory=`
    /// gives it to `User=ecmpd`). Root never follows a symbolic link there
    /// and replaces files by rename, so that user cannot turn it elsewhere.
    public static func forOperator(_ path: String) -> StateDirectory {
        var info = stat()
        guard geteuid() == 0, stat(path, &info) == 0, info.st_uid != 0 else { return StateDirectory(path) }
        return StateDirectory(path, trust: FileTrust(effectiveUser: info.st_uid))
    }

    /// Creates the directory 0700 when it is missing (its parent must
    /// exist), then checks it and every directory above it.
    public func prepare() throws(StateDirectoryError) {
        try inspect()
        if mkdir(path, 0o700) != 0, errno != EEXIST {
            throw .failed(operation: "create the state directory", path: path, errno: errno)
        }
        guard try inspect() else {
            throw .failed(operation: "find the state directory just created", path: path, errno: ENOENT)
        }
    }

    /// Checks each directory from / down to the state directory: those of
    /// the configured path (a symbolic link on the way lives in the one
    /// before it) and those of the path the kernel walks (realpath).
    /// Returns whether the state directory exists; throws the first
    /// directory that lets another user in.
    @discardableResult
    public func inspect() throws(StateDirectoryError) -> Bool {
        var exists = true
        var resolved: String
        do throws(StateDirectoryError) { resolved = try Self.realPath(path) } catch {
            guard case .failed(_, _, ENOENT) = error else { throw error }
            exists = false
            let parent = (path as NSString).deletingLastPathComponent
            resolved = try Self.realPath(parent.isEmpty ? "/" : parent) + "/" + (path as NSString).lastPathComponent
        }
        for parent in Self.prefixes(path).dropLast() + Self.prefixes(resolved).dropLast() {
            try check(parent, isStateDirectory: false)
        }
        if exists { try check(resolved, isStateDirectory: true) }
        return exists
    }

    /// "/", "/a", "/a/b" for "/a/b".
    private static func prefixes(_ path: String) -> [String] {
        let parts = path.split(separator: "/").map(String.init)
        return (0...parts.count).map { "/" + parts.prefix($0).joined(separator: "/") }
    }

    private func check(_ directory: String, isStateDirectory: Bool) throws(StateDirectoryError) {
        var info = stat()
        guard stat(directory, &info) == 0 else {
            throw .failed(operation: "inspect the state directory's path at", path: directory, errno: errno)
        }
        if isStateDirectory && info.st_mode & S_IFMT != S_IFDIR {
            throw .failed(operation: "use as the state directory", path: directory, errno: ENOTDIR)
        }
        let mode = info.st_mode
        if let problem = trust.problem(directoryOwner: info.st_uid, mode: mode, isStateDirectory: isStateDirectory) {
            throw .unsafe(
                StateDirectoryError.Unsafe(
                    stateDirectory: path, directory: directory, isStateDirectory: isStateDirectory, owner: info.st_uid,
                    mode: info.st_mode & 0o7777, problem: problem, effectiveUser: trust.effectiveUser))
        }
    }

    private static func realPath(_ path: String) throws(StateDirectoryError) -> String {
        guard let resolved = realpath(path, nil) else {
            throw .failed(operation: "resolve the state directory's path", path: path, errno: errno)
        }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// What `ecmpd check` says about `node.state_dir`: an error when
    /// `ecmpd run`, started as the same user, would refuse it. Run by root,
    /// `check` cannot know the service's user: a state directory owned by
    /// another user and writable by nobody else (as systemd's
    /// `StateDirectory=` makes it for `User=ecmpd`) is a warning.
    public static func checkProblems(_ loaded: LoadedConfig) -> [ConfigProblem] {
        let directory = StateDirectory(loaded.config.node.stateDirectory)
        do {
            try directory.inspect()
            return []
        } catch {
            let field = "node.state_dir", value = directory.path
            guard case .unsafe(let unsafe) = error else {
                return [loaded.problem(.warning, field: field, value: value, message: "\(error); not checked")]
            }
            let serviceUserOnly =
                FileTrust(effectiveUser: unsafe.owner)
                .problem(directoryOwner: unsafe.owner, mode: unsafe.mode, isStateDirectory: true) == nil
            if directory.trust.effectiveUser == 0, unsafe.isStateDirectory, unsafe.problem == .ownedByAnotherUser,
                serviceUserOnly
            {
                return [
                    loaded.problem(
                        .warning, field: field, value: value,
                        message:
                            "owned by \(Account.describe(unsafe.owner)): `ecmpd run` accepts it only when it runs as that user "
                            + "(as deploy/systemd/ecmpd.service does) and refuses it as root")
                ]
            }
            return [loaded.problem(field: field, value: value, message: unsafe.reason)]
        }
    }
}

/// Why the state directory cannot be used.
public enum StateDirectoryError: Error, Sendable, CustomStringConvertible {
    /// A system call failed: what was attempted, on what, and errno.
    case failed(operation: String, path: String, errno: Int32)
    case unsafe(Unsafe)

    /// A directory on the state directory's path that another user can write.
    public struct Unsafe: Sendable, Equatable {
        public var stateDirectory: String
        /// The directory at fault: the state directory or one above it.
        public var directory: String
        public var isStateDirectory: Bool
        public var owner: UInt32
        public var mode: UInt32
        public var problem: FileTrust.DirectoryProblem
        public var effectiveUser: UInt32

        /// Names the directory, its owner and mode, what is wrong and the fix.
        public var reason: String {
            let stat = "\(directory) (owner \(Account.describe(owner)), mode \(String(format: "%04o", mode)))"
            let trusted = effectiveUser == 0 ? "root" : "\(Account.describe(effectiveUser)) and root"
            let what = isStateDirectory ? "the state directory \(stat)" : "\(stat), above the state directory,"
            let threat = isStateDirectory ? "plant drain.json or loopback.json there" : "replace the state directory"
            switch problem {
            case .ownedByAnotherUser:
                return "\(what) belongs to a user other than \(trusted), who could \(threat); "
                    + (isStateDirectory ? "chown it to the user ecmpd runs as" : "chown it to root")
            case .writableByOthers:
                return "\(what) can be written by users other than \(trusted), who could \(threat); chmod go-w it"
                    + (isStateDirectory ? " (ecmpd creates the state directory 0700)" : "")
            }
        }
    }

    public var description: String {
        switch self {
        case .failed(let operation, let path, let code):
            return "could not \(operation) \(path): \(String(cString: strerror(code))) (errno \(code))"
        case .unsafe(let unsafe):
            return "node.state_dir \(unsafe.stateDirectory) is unsafe: \(unsafe.reason)"
        }
    }
}
