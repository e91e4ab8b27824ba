import ArgumentParser
import ECMPCore
import ECMPDaemon
import ECMPNetlink
import ECMPRouting
import Foundation

/// `ecmpd check`: every problem in the config, with file, line, field and
/// value; then, on a director, what only the live network can tell.
struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate a config file; print every problem with its line. Exit 1 on any error."
    )

    @Option(name: .shortAndLong, help: "The config file.")
    var config: String = ConfigFile.defaultPath

    @Flag(help: "Skip the checks against this host's interfaces, routes, key file and templates.")
    var noNetwork = false

    @Option(help: "director or router: which side's rules apply.")
    var role: RoutingRole = .director

    @Flag(help: "Print the problems as JSON.")
    var json = false

    struct Report: Encodable {
        var file: String
        var valid: Bool
        var problems: [Problem]
        struct Problem: Encodable {
            var severity: String
            var line: Int?
            var column: Int?
            var field: String?
            var value: String?
            var message: String
        }
    }

    func run() throws {
        var problems: [ConfigProblem]
        var loadedConfig: LoadedConfig?
        do {
            let loaded = try ConfigFile.read(config)
            loadedConfig = loaded
            problems = loaded.warnings
        } catch {
            problems = error.problems
        }
        if let loaded = loadedConfig {
            problems += viaVIPSuggestions(loaded)
            if !noNetwork { problems += hostProblems(loaded) }
        }
        if role == .router {
            // A router is meant to be the DR and announces no VIPs itself.
            problems.removeAll {
                $0.severity == .warning && ($0.field == "ospf.priority" || $0.field?.hasSuffix(".services") == true)
            }
        }
        let errors = problems.filter { $0.severity == .error }.count
        if json {
            try Output.json(
                Report(
                    file: config, valid: errors == 0,
                    problems: problems.map {
                        Report.Problem(
                            severity: $0.severity.rawValue, line: $0.line, column: $0.column, field: $0.field,
                            value: $0.value, message: $0.message)
                    }))
        } else {
            for problem in problems { print(problem.description) }
            let warnings = problems.count - errors
            print(
                "\(config): \(errors == 0 ? "valid" : "invalid"), \(errors) error\(errors == 1 ? "" : "s"), \(warnings) warning\(warnings == 1 ? "" : "s")"
            )
        }
        if errors > 0 { throw ExitCode(1) }
    }

    /// Problems only this host can reveal: a VIP that is also an interface
    /// address, interfaces that do not exist, a key file others can read,
    /// a state directory others can write.
    func hostProblems(_ loaded: LoadedConfig) -> [ConfigProblem] {
        var problems: [ConfigProblem] = []
        if let message = FRRHostname.problem(configured: loaded.config.node.hostname, system: Output.systemHostname()) {
            problems.append(
                loaded.problem(field: "node.hostname", value: loaded.config.node.hostname, message: message))
        }
        do {
            let network = try NetworkDetector.snapshot()
            problems += NetworkConfigValidator.problems(loaded, network: network)
            do {
                _ = try OSPFPlanner.plan(
                    role: role, config: loaded.config, network: network, systemHostname: Output.systemHostname())
            } catch {
                problems.append(loaded.problem(field: error.field, value: nil, message: error.message))
            }
        } catch {
            problems.append(
                ConfigProblem(
                    .warning, file: loaded.file,
                    message: "could not read this host's network (\(error)); skipped the checks against it"))
        }
        if let authentication = loaded.config.ospf.authentication {
            do { _ = try OSPFKeyFile.read(authentication.keyFile) } catch {
                problems.append(
                    loaded.problem(
                        field: "ospf.authentication.key_file", value: authentication.keyFile, message: error.description
                    ))
            }
        }
        problems += bfdProblems(loaded)
        problems += ospf6Problems(loaded)
        problems += fleetConsistencySysctls(loaded)
        problems += pingSockets(loaded)
        problems += viaVIPSysctls(loaded)
        problems += maglevWithoutFallback(loaded)
        problems += StateDirectory.checkProblems(loaded)
        do { _ = try TemplateLocator.templates(for: role, configured: loaded.config.routing.templatesDirectory) } catch
        {
            problems.append(
                loaded.problem(
                    field: "routing.templates_dir", value: loaded.config.routing.templatesDirectory, message: "\(error)"
                ))
        }
        return problems
    }

    /// BFD on, but bfdd not running (FRR's daemons file starts it only
    /// with bfdd=yes) or no bfdd.conf template; on a router with BFD off,
    /// directors that send BFD to it anyway (a 1.2 s listen on UDP 3784).
    func bfdProblems(_ loaded: LoadedConfig) -> [ConfigProblem] {
        let bfd = loaded.config.ospf.bfd
        let routing = loaded.config.routing
        var problems: [ConfigProblem] = []
        if bfd.enabled {
            if routing.flavour == .frr {
                let bfdd = RoutingDaemonProbe(settings: routing).look(at: "bfdd")
                if !bfdd.running {
                    problems.append(
                        loaded.problem(
                            .warning, field: "ospf.bfd", value: nil,
                            message: "BFD is on, but bfdd is \(bfdd.detail)"))
                }
            } else {
                problems.append(
                    loaded.problem(
                        field: "ospf.bfd", value: nil,
                        message: "BFD needs FRR's bfdd; routing.flavour is \(routing.flavour.rawValue)"))
            }
            if let templates = try? TemplateLocator.templates(for: role, configured: routing.templatesDirectory),
                templates.bfdd == nil
            {
                problems.append(
                    loaded.problem(
                        field: "routing.templates_dir", value: routing.templatesDirectory,
                        message: "ospf.bfd is on, but the \(role.rawValue) templates have no bfdd.conf.mustache"))
            }
        } else if role == .router, let senders = BFDPacketListener.senders(), !senders.isEmpty {
            let list = senders.map(\.description).joined(separator: ", ")
            problems.append(
                loaded.problem(
                    .warning, field: "ospf.bfd", value: nil,
                    message:
                        "BFD is off on this router, but \(list) send\(senders.count == 1 ? "s" : "") BFD: a failed director stays in the route for the dead interval; turn ospf.bfd on here too"
                ))
        }
        return problems
    }

    /// IPv6 VIPs, but ospf6d not running (FRR's daemons file starts it
    /// only with ospf6d=yes) or no ospf6d.conf template.
    func ospf6Problems(_ loaded: LoadedConfig) -> [ConfigProblem] {
        let config = loaded.config
        guard config.ospf6 != nil, !config.ipv6VIPs.isEmpty else { return [] }
        var problems: [ConfigProblem] = []
        if config.routing.flavour == .frr {
            let ospf6d = RoutingDaemonProbe(settings: config.routing).look(at: "ospf6d")
            if !ospf6d.running {
                problems.append(
                    loaded.problem(
                        .warning, field: "ospf6", value: nil,
                        message: "the config has IPv6 VIPs, but ospf6d is \(ospf6d.detail)"))
            }
        }
        if let templates = try? TemplateLocator.templates(for: role, configured: config.routing.templatesDirectory),
            templates.ospf6d == nil
        {
            problems.append(
                loaded.problem(
                    field: "routing.templates_dir", value: config.routing.templatesDirectory,
                    message: "the config has IPv6 VIPs, but the \(role.rawValue) templates have no ospf6d.conf.mustache"
                ))
        }
        return problems
    }

    /// A check at the real server's own address misses a server that lost
    /// the VIP from lo; `via_vip` is not the default (docs/managed-mode.md
    /// says why), so it is suggested, once per service.
    func viaVIPSuggestions(_ loaded: LoadedConfig) -> [ConfigProblem] {
        VIPPathPlan.servicesLackingVIPPath(loaded.config).map { path in
            loaded.problem(
                .warning, field: path, value: nil,
                message:
                    "direct-routing service checked at the real servers' own addresses only: add via_vip: true to "
                    + "their checks to catch a server that lost the VIP from lo (docs/managed-mode.md)")
        }
    }

    /// A `via_vip` probe's answer comes from the VIP, an address of this
    /// director's lo: the kernel drops it as a martian unless accept_local
    /// is on, and strict reverse-path filtering drops it too.
    func viaVIPSysctls(_ loaded: LoadedConfig) -> [ConfigProblem] {
        guard !VIPPathPlan(loaded.config).markOfPair.isEmpty else { return [] }
        func value(_ name: String) -> String? {
            FileManager.default.contents(atPath: "/proc/sys/net/ipv4/conf/all/\(name)").map {
                String(decoding: $0, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            }
        }
        var problems: [ConfigProblem] = []
        if let acceptLocal = value("accept_local"), acceptLocal != "1" {
            problems.append(
                ConfigProblem(
                    .warning, file: loaded.file,
                    message:
                        "via_vip checks need net.ipv4.conf.all.accept_local=1 (it is \(acceptLocal)): the real "
                        + "server answers from the VIP, an address of this director, and the answer is dropped as a "
                        + "martian; every via_vip check would time out (deploy/sysctl/90-ecmpd-director.conf)"))
        }
        if value("rp_filter") == "1" {
            problems.append(
                ConfigProblem(
                    .warning, file: loaded.file,
                    message:
                        "via_vip checks need loose or no reverse-path filtering (net.ipv4.conf.all.rp_filter=2): "
                        + "strict filtering drops the real server's answer from the VIP"))
        }
        return problems
    }

    /// The live IPVS table's mh services without fallback, whoever set them
    /// up (keepalived, ipvsadm, ecmpd): the config's own are warned about by
    /// the parser, these are what runs. Without IPVS or the right to read it
    /// (no CAP_NET_ADMIN) there is no table to judge, and nothing is said.
    func maglevWithoutFallback(_ loaded: LoadedConfig) -> [ConfigProblem] {
        guard let table = try? IPVSClient().table() else { return [] }
        return MaglevFallback.kernelWarnings(table, config: loaded.config).map {
            ConfigProblem(.warning, file: loaded.file, message: $0)
        }
    }

    /// A fleet-consistent VIP needs IPVS to accept a flow that started on
    /// another director: with `sloppy_tcp` (`sloppy_sctp`) at 0 a director
    /// only creates a connection entry for a SYN, so mid-flow packets moved
    /// to it by the router are answered with a reset (docs/fleet-consistency.md).
    /// `type: icmp` needs a ping socket for the group ecmpd runs as (the
    /// `ecmpd` group of the package, else this process's): one warning, at
    /// the first icmp check.
    func pingSockets(_ loaded: LoadedConfig) -> [ConfigProblem] {
        var first: String?
        for (v, vip) in loaded.config.vips.enumerated() where first == nil {
            for (s, service) in vip.services.enumerated() where first == nil {
                for (r, server) in service.realServers.enumerated() where server.check?.kind == .icmp {
                    first = "vips[\(v)].services[\(s)].real_servers[\(r)].check"
                    break
                }
            }
        }
        guard let field = first else { return [] }
        let path = "/proc/sys/net/ipv4/ping_group_range"
        guard let data = FileManager.default.contents(atPath: path) else { return [] }
        var group = getegid()
        var name: String?
        if let entry = getgrnam("ecmpd") {
            group = entry.pointee.gr_gid
            name = "ecmpd"
        }
        guard
            let message = PingGroupRange.problem(
                range: String(decoding: data, as: UTF8.self), group: group, groupName: name)
        else { return [] }
        return [loaded.problem(.warning, field: field, value: "icmp", message: message)]
    }

    func fleetConsistencySysctls(_ loaded: LoadedConfig) -> [ConfigProblem] {
        let fleet = loaded.config.vips.filter(\.fleetConsistent)
        guard !fleet.isEmpty else { return [] }
        var names = ["sloppy_tcp"]
        let sctp = fleet.contains { vip in
            vip.services.contains { service in
                if case .port(.sctp, _) = service.listener { return true }
                return false
            }
        }
        if sctp { names.append("sloppy_sctp") }
        return names.compactMap { name in
            let path = "/proc/sys/net/ipv4/vs/\(name)"
            guard let data = FileManager.default.contents(atPath: path) else {
                return ConfigProblem(
                    .warning, file: loaded.file,
                    message:
                        "fleet_consistent VIPs need net.ipv4.vs.\(name)=1, and \(path) cannot be read (is ip_vs loaded?)"
                )
            }
            let value = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            guard value != "1" else { return nil }
            return ConfigProblem(
                .warning, file: loaded.file,
                message:
                    "fleet_consistent VIPs need net.ipv4.vs.\(name)=1 (it is \(value)): flows moved here from another director would be reset; see deploy/sysctl/90-ecmpd-director.conf"
            )
        }
    }
}
