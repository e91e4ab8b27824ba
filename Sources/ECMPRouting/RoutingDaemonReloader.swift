import ECMPCore
import Foundation

/// Makes the running routing daemon pick up an installed file. For FRR in
/// split-file mode only frr-reload.py applies a per-daemon file (SIGHUP
/// only logs; `systemctl reload frr` reloads frr.conf).
public struct RoutingDaemonReloader: Sendable {
    public var settings: RoutingDaemonSettings
    public var frrReloadScript: String

    public init(settings: RoutingDaemonSettings, frrReloadScript: String = "/usr/lib/frr/frr-reload.py") {
        self.settings = settings
        self.frrReloadScript = frrReloadScript
    }

    /// The argv that reloads `daemon` from `file`. For frr-reload.py,
    /// `runDirectory` is where it writes the commands it feeds vtysh (key
    /// included); `--stdout` keeps its log out of /var/log/frr, which only
    /// root may write, and in the output a failed reload reports.
    public func command(daemon: String, file: String, runDirectory: String = "/var/run/frr") -> [String]? {
        switch settings.reload {
        case .none:
            return nil
        case .frrReload:
            var argv = [
                "/usr/bin/python3", frrReloadScript, "--reload", "--stdout", "--rundir", runDirectory, "--daemon",
                daemon,
            ]
            if let pathspace = settings.pathspace { argv += ["--pathspace", pathspace] }
            argv += [
                "--bindir", URL(fileURLWithPath: settings.vtysh).deletingLastPathComponent().path, "--confdir",
                settings.configDirectory, file,
            ]
            return argv
        case .command(let template):
            return template.map {
                $0.replacingOccurrences(of: "{daemon}", with: daemon).replacingOccurrences(of: "{file}", with: file)
            }
        }
    }

    public func reload(daemon: String, file: String, secrets: [String] = []) throws {
        let runDirectory = try Self.privateDirectory()
        defer { try? FileManager.default.removeItem(atPath: runDirectory) }
        guard let argv = command(daemon: daemon, file: file, runDirectory: runDirectory) else { return }
        let result = try ProcessRunner.run(argv, timeout: .seconds(120))
        guard result.status == 0, !result.timedOut else {
            throw RoutingFileError.reloadFailed(
                daemon: daemon, command: argv, status: result.status,
                output: FRRValidator.redact(result.output, secrets))
        }
    }

    /// A fresh 0700 folder for frr-reload.py's command file: its default,
    /// /var/run/frr, is writable by FRR's user only (and was readable by
    /// all), and the file holds the OSPF key.
    static func privateDirectory() throws -> String {
        var template = Array((NSTemporaryDirectory() + "ecmpd-reload-XXXXXX").utf8CString)
        guard template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) != nil else {
            throw RoutingFileError.writeFailed(
                path: NSTemporaryDirectory(),
                reason: "create a folder for frr-reload.py: \(String(cString: strerror(errno)))")
        }
        return template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }

    /// Debian's FRR ships /etc/frr/frr.conf with `service
    /// integrated-vtysh-config`; while it exists, daemons started without
    /// `-f` ignore their own files, and an install would silently not apply.
    public func integratedConfigConflict() -> String? {
        guard settings.flavour == .frr else { return nil }
        let integrated = "\(settings.configDirectory)/frr.conf"
        return FileManager.default.fileExists(atPath: integrated) ? integrated : nil
    }
}
