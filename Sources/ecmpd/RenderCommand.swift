import ArgumentParser
import ECMPCore
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
        let settings = loaded.config.routing
        let network: NetworkSnapshot
        do { network = try NetworkDetector.snapshot() } catch {
            Output.error("ecmpd render: \(error)")
            throw ExitCode(1)
        }
        let plan: OSPFPlan
        do {
            plan = try OSPFPlanner.plan(role: role, config: loaded.config, network: network, systemHostname: Output.systemHostname())
        } catch {
            Output.error(loaded.problem(field: error.field, value: nil, message: error.message).description)
            throw ExitCode(1)
        }
        do {
            let renderer = try RoutingRenderer(templates: TemplateLocator.templates(for: role, configured: settings.templatesDirectory))
            var key: RoutingRenderer.AuthenticationKey?
            if let authentication = loaded.config.ospf.authentication {
                key = write == nil ? .redacted(keyFile: authentication.keyFile) : .secret(try OSPFKeyFile.read(authentication.keyFile))
            }
            let output = renderer.render(plan, key: key, version: ECMPDVersion.current, source: loaded.file)
            guard let directory = write else {
                print("==> zebra.conf <==\n\(output.zebra)\n==> ospfd.conf <==\n\(output.ospfd)", terminator: "")
                return
            }
            var secrets: [String] = []
            if case .secret(let text)? = key { secrets.append(text) }
            try install(output, into: directory, settings: settings, secrets: secrets)
        } catch let error as RoutingFileError {
            Output.error("ecmpd render: \(error)")
            throw ExitCode(1)
        }
    }

    func install(_ output: RoutingRenderer.Output, into directory: String, settings: RoutingDaemonSettings, secrets: [String]) throws {
        var target = settings
        target.configDirectory = directory
        let reloader = RoutingDaemonReloader(settings: target)
        if let integrated = reloader.integratedConfigConflict(), reload || !allowIntegrated {
            if reload && !allowIntegrated { throw RoutingFileError.integratedConfig(path: integrated) }
            Output.error("warning: \(RoutingFileError.integratedConfig(path: integrated))")
        }
        let validator = FRRValidator(vtysh: settings.vtysh)
        let installer = RoutingConfigInstaller(directory: directory, user: settings.user, group: settings.group, backups: settings.backups) { path, daemon in
            if settings.flavour == .frr { try validator.validate(file: path, daemon: daemon, secrets: secrets) }
        }
        let files = [RoutingConfigInstaller.File(daemon: "zebra", content: output.zebra), RoutingConfigInstaller.File(daemon: "ospfd", content: output.ospfd)]
        let outcomes = try installer.install(files)
        for file in files {
            switch outcomes[file.name] {
            case .installed(let backup): print("\(directory)/\(file.name): installed" + (backup.map { " (previous kept as \($0))" } ?? ""))
            default: print("\(directory)/\(file.name): unchanged")
            }
        }
        guard reload else { return }
        for file in files where outcomes[file.name] != .unchanged {
            try reloader.reload(daemon: file.daemon, file: "\(directory)/\(file.name)", secrets: secrets)
            print("\(file.daemon): reloaded")
        }
    }
}

extension RoutingRole: ExpressibleByArgument {}
