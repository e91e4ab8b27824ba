import ArgumentParser
import ECMPCore
import Foundation

/// `ecmpd import-keepalived FILE`: a keepalived.conf as a managed-mode
/// ecmpd config. Warnings go to stderr as `file:line: warning: ...` (and
/// into the generated file's header); any error prints every problem and
/// exits 1 without writing anything.
struct ImportKeepalivedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import-keepalived",
        abstract: "Translate a keepalived.conf (virtual servers, real servers, checks) into an ecmpd config.",
        discussion: """
            VRRP blocks are skipped (OSPF ECMP replaces them) and every keepalived setting ecmpd does not \
            support is named in a warning. Includes are read relative to the including file, as keepalived \
            reads them. Exit status: 0 imported, 1 errors found, 2 usage.
            """
    )

    @Argument(help: "The keepalived configuration file.")
    var file: String

    @Option(name: .shortAndLong, help: "Write the YAML to this file (atomically, mode 0640) instead of stdout.")
    var output: String?

    @Option(help: ArgumentHelp("The VIP that fwmark virtual servers belong to (keepalived gives them no address).", valueName: "address"))
    var fwmarkVIP: String?

    @Option(help: ArgumentHelp("keepalived's -i id, which decides the lines starting with '@' (default: this host's short hostname, as keepalived).", valueName: "id"))
    var configID: String?

    func validate() throws {
        if let fwmarkVIP, IPv4Address(fwmarkVIP) == nil {
            throw ValidationError("--fwmark-vip: \"\(fwmarkVIP)\" is not an IPv4 address")
        }
    }

    func run() throws {
        let result: KeepalivedImport
        do {
            let text = try KeepalivedFiles.read(file)
            result = try KeepalivedImporter.importConfig(
                text: text, file: file, fwmarkVIP: fwmarkVIP.flatMap(IPv4Address.init),
                configID: configID ?? Output.systemHostname(), includeLoader: KeepalivedFiles.include
            )
        } catch let error as ConfigErrors {
            for problem in error.problems { Output.error(problem.description) }
            let errors = error.problems.filter { $0.severity == .error }.count
            Output.error("\(file): not imported, \(errors) error\(errors == 1 ? "" : "s")")
            throw ExitCode(1)
        } catch let error as KeepalivedFiles.FileError {
            Output.error("\(error.path): error: \(error.reason)")
            throw ExitCode(1)
        } catch {
            Output.error("\(file): error: \(error)")
            throw ExitCode(1)
        }
        for warning in result.warnings { Output.error(warning.description) }
        let yaml = ConfigEmitter.yaml(result.config, header: result.header(source: file))
        guard let output else {
            print(yaml, terminator: "")
            return
        }
        do {
            try KeepalivedFiles.writeAtomically(yaml, to: output)
        } catch {
            Output.error("\(error.path): error: \(error.reason)")
            throw ExitCode(1)
        }
    }
}

/// The file side of the import: reading the config and its includes, and
/// writing the result so that a reader never sees half a file.
enum KeepalivedFiles {
    struct FileError: Error, CustomStringConvertible {
        var path: String
        var reason: String
        var description: String { "\(path): \(reason)" }
    }

    static let maximumSize = 16 << 20

    static func read(_ path: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            var isDirectory: ObjCBool = false
            let exists = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
            throw FileError(path: path, reason: !exists ? "no such file" : isDirectory.boolValue ? "is a directory" : "cannot read it (permissions?)")
        }
        guard data.count <= maximumSize else { throw FileError(path: path, reason: "larger than \(maximumSize >> 20) MiB") }
        guard let text = String(data: data, encoding: .utf8) else { throw FileError(path: path, reason: "not valid UTF-8 text") }
        return text
    }

    /// keepalived expands an include with glob(3), in sorted order; the
    /// core has already put a relative pattern under the including file's
    /// directory.
    static func include(_ pattern: String) throws -> [(file: String, text: String)] {
        var matches = glob_t()
        defer { globfree(&matches) }
        let status = glob(pattern, 0, nil, &matches)
        if status == GLOB_NOMATCH { return [] }
        guard status == 0 else { throw FileError(path: pattern, reason: "cannot expand the pattern (glob error \(status))") }
        var files: [(file: String, text: String)] = []
        for index in 0..<Int(matches.gl_pathc) {
            guard let pointer = matches.gl_pathv[index] else { continue }
            let path = String(cString: pointer)
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue { continue }
            files.append((path, try read(path)))
        }
        return files
    }

    /// Temp file beside the target, mode 0640 whatever the umask, fsync,
    /// rename: the target is either the old file or the whole new one.
    static func writeAtomically(_ text: String, to path: String) throws(FileError) {
        func failure(_ step: String) -> FileError { FileError(path: path, reason: "\(step): \(String(cString: strerror(errno)))") }
        let url = URL(fileURLWithPath: path)
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(getpid()).tmp").path
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
