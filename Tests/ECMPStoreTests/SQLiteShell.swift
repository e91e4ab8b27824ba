import Foundation

/// The `sqlite3` shell as a separate process holding a connection open, to
/// lock a database the way another program on the host would.
final class SQLiteShell {
    private let process = Process()
    private let input = Pipe()
    private let output = Pipe()

    init(path: String) throws {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        process.arguments = ["-batch", path]
        process.standardInput = input
        process.standardOutput = output
        process.standardError = output
        try process.run()
    }

    /// Runs `sql` and waits until the shell has executed it (it echoes a
    /// marker afterwards), so the lock is really held when this returns.
    func run(_ sql: String) throws {
        let marker = "done-\(UUID().uuidString)"
        input.fileHandleForWriting.write(Data("\(sql)\n.print \(marker)\n".utf8))
        var seen = ""
        while !seen.contains(marker) {
            let chunk = output.fileHandleForReading.availableData
            guard !chunk.isEmpty else { throw CocoaError(.fileReadUnknown) }
            seen += String(decoding: chunk, as: UTF8.self)
        }
        if seen.contains("Error") || seen.contains("error") {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSLocalizedDescriptionKey: seen])
        }
    }

    func quit() throws {
        input.fileHandleForWriting.write(Data(".quit\n".utf8))
        try input.fileHandleForWriting.close()
        process.waitUntilExit()
    }

    deinit {
        if process.isRunning { process.terminate() }
    }
}
