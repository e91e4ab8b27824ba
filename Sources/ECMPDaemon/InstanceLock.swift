import ECMPCore
import Foundation
import Logging

/// One `ecmpd run` per state directory. Two would fight over lo, IPVS and
/// the routing files, each undoing the other's changes. The first holds an
/// exclusive flock on `<state_dir>/run.lock`, which holds its pid; a second
/// finds the lock taken and stops before it touches anything. The kernel
/// drops the lock when the holder exits, crash included, so a stale file
/// never blocks a restart: the lock, not the pid in the file, says whether
/// an instance runs.
public final class InstanceLock {
    public static let fileName = "run.lock"

    /// nil on a read-only state directory.
    private let file: LockFile?

    /// Takes the lock or throws `.held` naming the running instance's pid.
    /// The pid is written for the next one to name; when it cannot be (a
    /// full state directory) the lock still holds, and the failure is
    /// logged. A state directory mounted read-only (a fault the event store
    /// rides out, docs/reliability.md) gets no lock, with a warning: ecmpd
    /// runs on and holds nothing open there, so it can be remounted.
    public init(
        stateDirectory: String, trust: FileTrust = FileTrust(effectiveUser: geteuid()), logger: Logger
    ) throws(InstanceLockError) {
        let path = "\(stateDirectory)/\(Self.fileName)"
        let file: LockFile, acquired: Bool
        do throws(StateFileError) {
            file = try LockFile(path: path, trust: trust)
            acquired = try file.tryLock()
        } catch  where error.code == EROFS {
            logger.warning(
                "state directory read-only: no instance lock, so a second ecmpd run would not be refused",
                metadata: ["error": "\(error)"])
            self.file = nil
            return
        } catch {
            throw .file(error)
        }
        guard acquired else {
            // Only for the message: an unreadable pid still leaves the lock taken.
            let pid = (try? file.contents()).flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
            throw .held(path: path, pid: pid)
        }
        self.file = file
        do throws(StateFileError) { try file.replaceContents("\(getpid())\n") } catch {
            logger.warning(
                "instance lock taken; its pid not written, so a second instance cannot name this one",
                metadata: ["error": "\(error)"])
        }
    }

    /// Releases the lock (as exiting would); a failure is logged, since
    /// the process is stopping anyway.
    public func release(logger: Logger) {
        do { try file?.close() } catch {
            logger.warning("instance lock not released cleanly", metadata: ["error": "\(error)"])
        }
    }
}

/// Why `ecmpd run` could not become the one instance for its state directory.
public enum InstanceLockError: Error, Sendable, CustomStringConvertible {
    /// Another process holds the lock: its pid, when it has written it.
    case held(path: String, pid: Int32?)
    case file(StateFileError)

    public var description: String {
        switch self {
        case .held(let path, let pid):
            let who = pid.map { "another ecmpd run (pid \($0))" } ?? "another ecmpd run (its pid not written yet)"
            return "\(who) holds \(path): one instance per node.state_dir; nothing was changed. "
                + "Stop it first (systemctl stop ecmpd), or give this one its own state_dir"
        case .file(let error):
            return "cannot take the instance lock: \(error)"
        }
    }
}
