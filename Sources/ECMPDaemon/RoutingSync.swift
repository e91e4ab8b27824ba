import ECMPCore
import ECMPNetlink
import ECMPRouting
import Foundation

/// Render, validate, install and reload the routing configs: what
/// `ecmpd render --write DIR --reload` does once and `ecmpd run` does after
/// every network change, config reload and whole-director drain.
///
/// Blocking (FRR's parser and frr-reload.py are processes that take a
/// second or more): the daemon calls it on its own thread, never on the
/// reconcile loop's.
public struct RoutingSync {
    public struct Result: Sendable, Equatable {
        /// Per file (`zebra.conf`, `ospfd.conf`, `bfdd.conf`, `ospf6d.conf`), whether it changed.
        public var installed: [String: RoutingConfigInstaller.Outcome]
        /// Daemons reloaded, in order.
        public var reloaded: [String]
        /// Daemons whose file changed but that were not reloaded because
        /// they are not running; they are reloaded when they come back.
        public var deferred: [String] = []

        public var changed: Bool { installed.values.contains { $0 != .unchanged } }
    }

    /// A render or install that could not be done, with the reason an
    /// operator reads (the OSPF key is never in it).
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
        public init(_ description: String) { self.description = description }
    }

    public var loaded: LoadedConfig
    public var role: RoutingRole
    public var directory: String
    public var allowIntegrated: Bool
    /// `cost` for `interface lo` in place of `ospf.lo_cost`: the drain cost
    /// while the whole director is drained.
    public var loopbackCost: Int?

    public var config: Config { loaded.config }
    public var configFile: String { loaded.file }

    public init(
        loaded: LoadedConfig, role: RoutingRole = .director, directory: String? = nil, allowIntegrated: Bool = false,
        loopbackCost: Int? = nil
    ) {
        self.loaded = loaded
        self.loopbackCost = loopbackCost
        self.role = role
        self.directory = directory ?? loaded.config.routing.configDirectory
        self.allowIntegrated = allowIntegrated
    }

    /// The rendered files for `network`; with `withKey`, the OSPF key read
    /// from its file (for installing), else a placeholder (for printing).
    /// `note` hears what the operator should know about the plan: the IPv6
    /// addresses ospf6d's list skips, and why.
    public func render(
        network: NetworkSnapshot, hostname: String, withKey: Bool, note: (String) -> Void = { _ in }
    ) throws -> (output: RoutingRenderer.Output, secrets: [String]) {
        var effective = config
        if let loopbackCost {
            effective.ospf.loopbackCost = loopbackCost
            effective.ospf6?.loopbackCost = loopbackCost
        }
        let plan: OSPFPlan
        do {
            plan = try OSPFPlanner.plan(role: role, config: effective, network: network, systemHostname: hostname)
        } catch {
            throw Failure(loaded.problem(field: error.field, value: nil, message: error.message).description)
        }
        for skipped in plan.ospf6?.skipped ?? [] { note(skipped.description) }
        let renderer = try RoutingRenderer(
            templates: TemplateLocator.templates(for: role, configured: config.routing.templatesDirectory))
        var key: RoutingRenderer.AuthenticationKey?
        var secrets: [String] = []
        if let authentication = config.ospf.authentication {
            if withKey {
                let text = try OSPFKeyFile.read(authentication.keyFile)
                key = .secret(text)
                secrets.append(text)
            } else {
                key = .redacted(keyFile: authentication.keyFile)
            }
        }
        let output: RoutingRenderer.Output
        do { output = try renderer.render(plan, key: key, version: ECMPDVersion.current, source: configFile) } catch {
            throw Failure("\(error)")
        }
        return (output, secrets)
    }

    /// Validates every file with FRR, installs them atomically (nothing is
    /// replaced unless all pass), and with `reload` reloads the daemons
    /// whose file changed. Unchanged files are neither rewritten nor
    /// reloaded, except for the daemons in `forceReload`: one that
    /// restarted with other config, or whose last reload failed after its
    /// file was installed. Daemons in `notRunning` are not reloaded at all
    /// (a reload of a stopped daemon can only fail); they are `deferred`.
    public func install(
        _ output: RoutingRenderer.Output, secrets: [String], reload: Bool, forceReload: Set<String> = [],
        notRunning: Set<String> = [],
        warn: (String) -> Void = { _ in }
    ) throws -> Result {
        let settings = config.routing
        var target = settings
        target.configDirectory = directory
        let reloader = RoutingDaemonReloader(settings: target)
        if let integrated = reloader.integratedConfigConflict(), reload || !allowIntegrated {
            if reload && !allowIntegrated { throw RoutingFileError.integratedConfig(path: integrated) }
            warn("warning: \(RoutingFileError.integratedConfig(path: integrated))")
        }
        let validator = FRRValidator(vtysh: settings.vtysh)
        // bfdd.conf only with BFD on; with it off, a bfdd.conf from before
        // is left alone (no OSPF interface asks bfdd for a session).
        let files = output.files.map { RoutingConfigInstaller.File(daemon: $0.daemon, content: $0.content) }
        let installed = try withoutActuallyEscaping(warn) { warn in
            let installer = RoutingConfigInstaller(
                directory: directory, user: settings.user, group: settings.group, backups: settings.backups,
                warn: { warn("warning: \($0)") }
            ) { descriptor, daemon in
                guard settings.flavour == .frr else { return }
                try validator.validate(descriptor: descriptor, daemon: daemon, secrets: secrets)
            }
            return try installer.install(files)
        }
        var result = Result(installed: installed, reloaded: [])
        guard reload else { return result }
        for file in files where result.installed[file.name] != .unchanged || forceReload.contains(file.daemon) {
            let path = "\(directory)/\(file.name)"
            guard reloader.command(daemon: file.daemon, file: path) != nil else { continue }
            if notRunning.contains(file.daemon) {
                result.deferred.append(file.daemon)
                continue
            }
            try reloader.reload(daemon: file.daemon, file: path, secrets: secrets)
            result.reloaded.append(file.daemon)
        }
        return result
    }

    /// Reads the network, renders, installs and reloads.
    public func run(hostname: String) throws -> Result {
        let network: NetworkSnapshot
        do { network = try NetworkDetector.snapshot() } catch { throw Failure("\(error)") }
        let (output, secrets) = try render(network: network, hostname: hostname, withKey: true)
        return try install(output, secrets: secrets, reload: true)
    }
}
