import CGlibcExtras
import Foundation

/// Runs a program from an argv, never through a shell, with a time limit
/// and bounded output. Output goes to an unlinked temporary file rather
/// than a pipe: a program that daemonizes (FRR's `-d`) leaves children
/// holding a pipe open forever, and a chatty one cannot fill memory or
/// block on a full pipe. The file is held to `outputLimit` while the
/// program runs, so a flood (an exec check stuck printing) cannot fill the
/// disk either.
public enum ProcessRunner {
    public struct Result: Sendable {
        public var status: Int32
        public var output: String
        public var timedOut: Bool
    }

    public struct LaunchError: Error, CustomStringConvertible {
        public var program: String
        public var errno: Int32
        public var description: String { "cannot run \(program): \(String(cString: strerror(errno)))" }
    }

    /// At most this much of a program's output is kept.
    public static let outputLimit = 64 * 1024

    /// The most a program may write to its output file at all (RLIMIT_FSIZE,
    /// set on the child right after it starts). The poll below cuts the file
    /// back to `outputLimit` every 2 ms, but a thread starved of CPU polls
    /// late: a program writing 1 GB/s then grows the file by 100 MB between
    /// two polls (measured with the unit tier under load). Past this limit
    /// the kernel stops the write (SIGXFSZ ends the program), so the disk is
    /// safe however late the poll comes.
    public static let fileSizeBackstop = 16 << 20

    /// The descriptor a program run with `passing:` finds its file on.
    public static let passedDescriptor: Int32 = 3

    /// With `passing`, the program gets that open file as its descriptor
    /// 3 (`passedDescriptor`) and can open it as /proc/self/fd/3: a file
    /// handed over that way cannot be swapped by renaming a path.
    /// `environment` adds variables to (or replaces them in) this process's
    /// environment for the program.
    public static func run(
        _ argv: [String], timeout: Duration = .seconds(60), outputLimit: Int = outputLimit,
        passing descriptor: Int32? = nil, environment: [String: String] = [:]
    ) throws -> Result {
        precondition(!argv.isEmpty, "an argv needs a program")
        var template = Array("/tmp/ecmpd-output-XXXXXX".utf8CString)
        let outputFile = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard outputFile >= 0 else { throw LaunchError(program: argv[0], errno: errno) }
        template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
        defer { close(outputFile) }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, outputFile, 1)
        posix_spawn_file_actions_adddup2(&actions, outputFile, 2)
        var passed: Int32 = -1
        defer { if passed >= 0 { close(passed) } }
        if let descriptor {
            // A duplicate above 3, so the dup2 onto 3 always makes a new,
            // inheritable descriptor (dup2 of a descriptor onto itself
            // would leave its close-on-exec flag set).
            passed = fcntl(descriptor, F_DUPFD_CLOEXEC, 10)
            guard passed >= 0 else { throw LaunchError(program: argv[0], errno: errno) }
            posix_spawn_file_actions_adddup2(&actions, passed, Self.passedDescriptor)
        }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // Its own process group, so a timeout ends the whole tree it started.
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP))
        posix_spawnattr_setpgroup(&attributes, 0)

        var pid: pid_t = 0
        let cArguments = argv.map { strdup($0) } + [nil]
        defer { for argument in cArguments { free(argument) } }
        let status: Int32
        if environment.isEmpty {
            status = posix_spawn(&pid, argv[0], &actions, &attributes, cArguments, environ)
        } else {
            let entries = Self.environment(adding: environment).map { strdup($0) } + [nil]
            defer { for entry in entries { free(entry) } }
            status = posix_spawn(&pid, argv[0], &actions, &attributes, cArguments, entries)
        }
        guard status == 0 else { throw LaunchError(program: argv[0], errno: status) }
        // Before the child's first write is not guaranteed; a write before
        // this is bounded by the poll like any other. A failure here leaves
        // the poll alone to bound the file, as before the backstop.
        _ = ecmpd_limit_file_size(pid, UInt64(max(Self.fileSizeBackstop, outputLimit)))

        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        var waitStatus: Int32 = 0
        var timedOut = false
        var truncated = false
        while true {
            let reaped = waitpid(pid, &waitStatus, WNOHANG)
            if reaped == pid || (reaped < 0 && errno != EINTR) { break }
            if discardBeyond(limit: outputLimit, outputFile) { truncated = true }
            if clock.now >= deadline {
                timedOut = true
                kill(-pid, SIGKILL)
                waitpid(pid, &waitStatus, 0)
                break
            }
            usleep(2_000)
        }
        return Result(
            status: exitStatus(waitStatus), output: readBack(outputFile, limit: outputLimit, truncated: truncated),
            timedOut: timedOut)
    }

    /// This process's environment as NAME=value entries, with `added`
    /// replacing any variable of the same name; the added ones come last,
    /// in name order.
    static func environment(adding added: [String: String]) -> [String] {
        var entries: [String] = []
        var pointer = environ
        while let entry = pointer.pointee {
            let text = String(cString: entry)
            let name = text.split(separator: "=", maxSplits: 1).first.map(String.init) ?? text
            if added[name] == nil { entries.append(text) }
            pointer += 1
        }
        return entries + added.keys.sorted().map { "\($0)=\(added[$0]!)" }
    }

    /// Exit status as a shell reports it: the code, or 128 + signal.
    static func exitStatus(_ status: Int32) -> Int32 {
        let signal = status & 0x7f
        return signal == 0 ? (status >> 8) & 0xff : 128 + signal
    }

    /// Cuts the output file back to `limit` bytes and moves the write
    /// position there; true if it was longer. The program's stdout and
    /// stderr share this descriptor's open file (dup2), hence its offset:
    /// its next write lands at `limit` again, and what it wrote past the
    /// limit since the last call is dropped. Between two calls the file
    /// grows by at most what the program writes in one poll interval.
    static func discardBeyond(limit: Int, _ descriptor: Int32) -> Bool {
        var size = stat()
        guard fstat(descriptor, &size) == 0, Int(size.st_size) > limit else { return false }
        ftruncate(descriptor, off_t(limit))
        lseek(descriptor, off_t(limit), SEEK_SET)
        return true
    }

    static func readBack(_ descriptor: Int32, limit: Int, truncated: Bool = false) -> String {
        var buffer = [UInt8](repeating: 0, count: limit)
        let count = buffer.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, limit, 0) }
        let text = String(decoding: buffer.prefix(max(0, count)), as: UTF8.self)
        var size = stat()
        fstat(descriptor, &size)
        return truncated || Int(size.st_size) > limit ? text + "\n[output truncated at \(limit) bytes]" : text
    }
}
