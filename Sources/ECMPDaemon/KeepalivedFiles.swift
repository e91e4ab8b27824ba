import Foundation

/// The file side of the import: reading the config and its includes, and
/// writing the result so that a reader never sees half a file.
public enum KeepalivedFiles {
    public struct FileError: Error, CustomStringConvertible {
        public var path: String
        public var reason: String
        public var description: String { "\(path): \(reason)" }
    }

    /// The text of one file, judged as any config file (`ConfigLoader.text`).
    public static func read(_ path: String) throws -> String {
        try ConfigLoader.text(path)
    }

    /// keepalived expands an include with glob(3), in sorted order; the
    /// core has already put a relative pattern under the including file's
    /// directory.
    public static func include(_ pattern: String) throws -> [(file: String, text: String)] {
        var matches = glob_t()
        defer { globfree(&matches) }
        let status = glob(pattern, 0, nil, &matches)
        if status == GLOB_NOMATCH { return [] }
        guard status == 0 else {
            throw FileError(path: pattern, reason: "cannot expand the pattern (glob error \(status))")
        }
        var files: [(file: String, text: String)] = []
        for index in 0..<Int(matches.gl_pathc) {
            guard let pointer = matches.gl_pathv[index] else { continue }
            let path = String(cString: pointer)
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
                continue
            }
            files.append((path, try read(path)))
        }
        return files
    }

    /// Temp file beside the target, mode 0640 whatever the umask, fsync,
    /// rename: the target is either the old file or the whole new one.
    public static func writeAtomically(_ text: String, to path: String) throws(FileError) {
        func failure(_ step: String) -> FileError {
            FileError(path: path, reason: "\(step): \(String(cString: strerror(errno)))")
        }
        let url = URL(fileURLWithPath: path)
        let temporary = url.deletingLastPathComponent().appendingPathComponent(
            ".\(url.lastPathComponent).\(getpid()).tmp"
        ).path
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o640)
        guard fd >= 0 else { throw failure("cannot create \(temporary) beside it") }
        var renamed = false
        defer { if !renamed { unlink(temporary) } }
        do {
            defer { close(fd) }
            guard fchmod(fd, 0o640) == 0 else { throw failure("cannot set mode 0640") }
            var bytes = Array(text.utf8)[...]
            while !bytes.isEmpty {
                let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
                if written < 0, errno == EINTR { continue }
                guard written > 0 else { throw failure("cannot write") }
                bytes = bytes.dropFirst(written)
            }
            guard fsync(fd) == 0 else { throw failure("cannot sync") }
        }
        guard rename(temporary, path) == 0 else { throw failure("cannot rename \(temporary) to it") }
        renamed = true
    }
}
