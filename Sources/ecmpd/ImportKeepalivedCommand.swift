import ArgumentParser
import ECMPCore
import ECMPDaemon
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

    @Option(
        help: ArgumentHelp(
            "The VIP that fwmark virtual servers belong to (keepalived gives them no address).", valueName: "address"))
    var fwmarkVIP: String?

    @Option(
        name: .customLong("fwmark-vip6"),
        help: ArgumentHelp(
            "The IPv6 VIP that fwmark virtual servers with ip_family inet6 belong to.", valueName: "address"))
    var fwmarkVIP6: String?

    @Option(
        help: ArgumentHelp(
            "keepalived's -i id, which decides the lines starting with '@' (default: this host's short hostname, as keepalived).",
            valueName: "id"))
    var configID: String?

    func validate() throws {
        if let fwmarkVIP, IPv4Address(fwmarkVIP) == nil {
            throw ValidationError("--fwmark-vip: \"\(fwmarkVIP)\" is not an IPv4 address")
        }
        if let fwmarkVIP6, IPAddress(fwmarkVIP6)?.ipv4 != nil || IPAddress(fwmarkVIP6) == nil {
            throw ValidationError("--fwmark-vip6: \"\(fwmarkVIP6)\" is not an IPv6 address")
        }
    }

    func run() throws {
        let result: KeepalivedImport
        do {
            let text = try ConfigFile.text(file)
            result = try KeepalivedImporter.importConfig(
                text: text, file: file, fwmarkVIP: fwmarkVIP.flatMap(IPv4Address.init),
                fwmarkVIP6: fwmarkVIP6.flatMap(IPAddress.init),
                configID: configID ?? Output.systemHostname(), includeLoader: KeepalivedFiles.include
            )
        } catch {
            for problem in error.problems { Output.error(problem.description) }
            let errors = error.problems.filter { $0.severity == .error }.count
            Output.error("\(file): not imported, \(errors) error\(errors == 1 ? "" : "s")")
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
