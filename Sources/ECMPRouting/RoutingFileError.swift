import ECMPCore
import Foundation

/// Failures of the routing-daemon edge, each naming the file or command.
public enum RoutingFileError: Error, CustomStringConvertible {
    case templatesNotFound(role: RoutingRole, searched: [String])
    case validationFailed(file: String, tool: String, output: String)
    case writeFailed(path: String, reason: String)
    /// A system call on `path` failed with `errno`; `operation` says what
    /// was attempted ("create a temporary file in").
    case fileSystem(operation: String, path: String, errno: Int32)
    /// The routing config folder can be written by users other than root,
    /// the routing daemon's user and ecmpd's own: they could swap the
    /// files FRR reads, or plant names an install would trip on.
    case unsafeConfigDirectory(path: String, reason: String)
    /// As root ecmpd renders only root's templates: one another user can
    /// write could add routing commands to the installed ospfd.conf.
    case unsafeTemplates(path: String, reason: String)
    case reloadFailed(daemon: String, command: [String], status: Int32, output: String)
    case keyFile(path: String, reason: String)
    case integratedConfig(path: String)

    public var description: String {
        switch self {
        case .templatesNotFound(let role, let searched):
            return
                "no \(role.rawValue) templates (ospfd.conf.mustache, zebra.conf.mustache) in: \(searched.joined(separator: ", ")); set routing.templates_dir"
        case .validationFailed(let file, let tool, let output):
            return
                "FRR rejected the rendered \(file) (\(tool)); nothing was installed:\n\(output.trimmingCharacters(in: .whitespacesAndNewlines))"
        case .writeFailed(let path, let reason):
            return "cannot write \(path): \(reason)"
        case .fileSystem(let operation, let path, let errno):
            return "cannot \(operation) \(path): \(String(cString: strerror(errno))) (errno \(errno))"
        case .unsafeConfigDirectory(let path, let reason):
            return "refusing to install routing configs into \(path): \(reason). Only root, the routing daemon's user "
                + "and group (routing.user, routing.group) may write it, e.g. root:frr or frr:frr 0770"
        case .unsafeTemplates(let path, let reason):
            return "refusing templates \(path): \(reason). Running as root, ecmpd renders only templates "
                + "that root owns and no one else can write (chown -R root:root, chmod -R go-w)"
        case .reloadFailed(let daemon, let command, let status, let output):
            return
                "reloading \(daemon) failed (exit \(status)) running \(command.joined(separator: " ")):\n\(output.trimmingCharacters(in: .whitespacesAndNewlines))"
        case .keyFile(let path, let reason):
            return "OSPF key file \(path): \(reason)"
        case .integratedConfig(let path):
            return
                "\(path) exists and Debian's FRR runs in integrated mode (`service integrated-vtysh-config`): daemons started without -f ignore zebra.conf/ospfd.conf. Move \(path) away and add `-f /etc/frr/zebra.conf` / `-f /etc/frr/ospfd.conf` to zebra_options / ospfd_options in /etc/frr/daemons (docs/operator-guide.md, \"FRR in split-file mode\")"
        }
    }
}
