import ECMPCore

/// Failures of the routing-daemon edge, each naming the file or command.
public enum RoutingFileError: Error, CustomStringConvertible {
    case templatesNotFound(role: RoutingRole, searched: [String])
    case validationFailed(file: String, tool: String, output: String)
    case writeFailed(path: String, reason: String)
    case reloadFailed(daemon: String, command: [String], status: Int32, output: String)
    case keyFile(path: String, reason: String)
    case integratedConfig(path: String)

    public var description: String {
        switch self {
        case .templatesNotFound(let role, let searched):
            return "no \(role.rawValue) templates (ospfd.conf.mustache, zebra.conf.mustache) in: \(searched.joined(separator: ", ")); set routing.templates_dir"
        case .validationFailed(let file, let tool, let output):
            return "FRR rejected the rendered \(file) (\(tool)); nothing was installed:\n\(output.trimmingCharacters(in: .whitespacesAndNewlines))"
        case .writeFailed(let path, let reason):
            return "cannot write \(path): \(reason)"
        case .reloadFailed(let daemon, let command, let status, let output):
            return "reloading \(daemon) failed (exit \(status)) running \(command.joined(separator: " ")):\n\(output.trimmingCharacters(in: .whitespacesAndNewlines))"
        case .keyFile(let path, let reason):
            return "OSPF key file \(path): \(reason)"
        case .integratedConfig(let path):
            return "\(path) exists and Debian's FRR runs in integrated mode (`service integrated-vtysh-config`): daemons started without -f ignore zebra.conf/ospfd.conf. Move \(path) away and add `-f /etc/frr/zebra.conf` / `-f /etc/frr/ospfd.conf` to zebra_options / ospfd_options in /etc/frr/daemons (docs/operator-guide.md, \"FRR in split-file mode\")"
        }
    }
}
