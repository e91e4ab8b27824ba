import ArgumentParser
import ECMPCore
import ECMPDaemon
import ECMPNetlink
import ECMPRouting
import Foundation

/// `ecmpd render`: zebra.conf and ospfd.conf for this host, from its config
/// and the networks the kernel reports. Printed (key redacted), or
/// validated by FRR and installed atomically with `--write`.
struct RenderCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "render",
        abstract: "Render zebra.conf and ospfd.conf from the config and this host's networks."
    )

    @Option(name: .shortAndLong, help: "The config file.")
    var config: String = ConfigFile.defaultPath

    @Option(help: "director or router.")
    var role: RoutingRole = .director

    @Option(help: "Validate with FRR and install into this directory (usually routing.config_dir).")
    var write: String?

    @Flag(help: "After a successful install that changed something, run the configured reload action.")
    var reload = false

    @Flag(help: "Install even though DIR/frr.conf (FRR's integrated config) exists.")
    var allowIntegrated = false

    func validate() throws {
        if reload, write == nil { throw ValidationError("--reload needs --write DIR") }
    }

    func run() throws {
        let loaded = ConfigFile.loadOrExit(config)
        if let message = FRRHostname.problem(configured: loaded.config.node.hostname, system: Output.systemHostname()) {
            Output.error("ecmpd render: \(message)")
            throw ExitCode(1)
        }
        if let directory = write {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue
            else {
                Output.error(
                    "ecmpd render: --write \(directory): no such directory (create it, or point --write at routing.config_dir)"
                )
                throw ExitCode(1)
            }
        }
        let network: NetworkSnapshot
        do { network = try NetworkDetector.snapshot() } catch {
            Output.error("ecmpd render: \(error)")
            throw ExitCode(1)
        }
        // What `check` and `run` refuse on this host's network (a VIP that is
        // an interface's address, the gateway, a subnet's network or
        // broadcast address) is not rendered either; warnings are `check`'s.
        let conflicts = NetworkConfigValidator.problems(loaded, network: network).filter { $0.severity == .error }
        if !conflicts.isEmpty {
            for problem in conflicts { Output.error(problem.description) }
            throw ExitCode(1)
        }
        let sync = RoutingSync(loaded: loaded, role: role, directory: write, allowIntegrated: allowIntegrated)
        do {
            let (output, secrets) = try sync.render(
                network: network, hostname: Output.systemHostname(), withKey: write != nil,
                note: { Output.error("note: \($0)") })
            guard let directory = write else {
                let shown = output.files.map { "==> \($0.daemon).conf <==\n\($0.content)" }
                print(shown.joined(separator: "\n"), terminator: "")
                return
            }
            let result = try sync.install(output, secrets: secrets, reload: reload, warn: Output.error)
            for name in output.files.map({ "\($0.daemon).conf" }) {
                switch result.installed[name] {
                case .installed(let backup):
                    print("\(directory)/\(name): installed" + (backup.map { " (previous kept as \($0))" } ?? ""))
                default: print("\(directory)/\(name): unchanged")
                }
            }
            for daemon in result.reloaded { print("\(daemon): reloaded") }
        } catch let error as RoutingSync.Failure {
            Output.error(error.description)
            throw ExitCode(1)
        } catch let error as RoutingFileError {
            Output.error("ecmpd render: \(error)")
            throw ExitCode(1)
        }
    }
}

extension RoutingRole: ExpressibleByArgument {}
