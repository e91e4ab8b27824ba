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

    public func command(daemon: String, file: String) -> [String]? {
        switch settings.reload {
        case .none:
            return nil
        case .frrReload:
            var argv = ["/usr/bin/python3", frrReloadScript, "--reload", "--daemon", daemon]
            if let pathspace = settings.pathspace { argv += ["--pathspace", pathspace] }
            argv += ["--bindir", URL(fileURLWithPath: settings.vtysh).deletingLastPathComponent().path, "--confdir", settings.configDirectory, file]
            return argv
        case .command(let template):
            return template.map { $0.replacingOccurrences(of: "{daemon}", with: daemon).replacingOccurrences(of: "{file}", with: file) }
        }
    }

    public func reload(daemon: String, file: String, secrets: [String] = []) throws {
        guard let argv = command(daemon: daemon, file: file) else { return }
        let result = try ProcessRunner.run(argv, timeout: .seconds(120))
        guard result.status == 0, !result.timedOut else {
            throw RoutingFileError.reloadFailed(daemon: daemon, command: argv, status: result.status,
                                                output: FRRValidator.redact(result.output, secrets))
        }
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
