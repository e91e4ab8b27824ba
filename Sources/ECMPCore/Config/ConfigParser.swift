import CYaml
import Yams

/// Turns the text of an ecmpd YAML file into a `Config`, reporting every
/// problem at once with its line, field and value. Nothing is returned
/// unless the whole file is valid.
public enum ConfigParser {
    /// IPVS schedulers in Linux 6.1 (net/netfilter/ipvs/ip_vs_*.c).
    public static let knownSchedulers = [
        "rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "fo", "ovf", "mh", "twos",
    ]
    public static let knownSchedulerFlags = ["mh-fallback", "mh-port", "sh-fallback", "sh-port", "one-packet"]

    /// How deep YAML may nest. An ecmpd config nests nine levels (the
    /// argv of an exec check); Yams composes the tree recursively, and at
    /// libyaml's default limit of 1,000 that overflows a 512 KiB thread
    /// stack.
    public static let maximumNesting = 64

    /// libyaml keeps its limit in a process-wide variable: set once, the
    /// first time a config is parsed (a static is initialised exactly once).
    private static let nestingLimit: Void = yaml_set_max_nest_level(Int32(maximumNesting))

    public static func parse(_ text: String, file: String) throws(ConfigErrors) -> LoadedConfig {
        _ = nestingLimit
        if let problem = SourceText.sizeProblem(text.utf8, file: file) { throw ConfigErrors([problem]) }
        if let line = UntrustedText.binaryLine(text) {
            throw ConfigErrors([UntrustedText.notAConfig(file, line: line, kind, UntrustedText.binaryReason)])
        }
        let reader = YAMLReader(file: file)
        let root: Node?
        do {
            // No tag resolution: every field is read from its scalar's text
            // (YAMLReader), so Yams's default rules (a regular expression
            // per rule for every scalar and key) would only cost time.
            root = try Yams.compose(yaml: text, .basic)
        } catch let error as YamlError {
            throw ConfigErrors([yamlProblem(error, in: text, file: file)])
        } catch {
            throw ConfigErrors([ConfigProblem(file: file, message: "cannot parse YAML: \(error)")])
        }
        guard let root else {
            throw ConfigErrors([
                ConfigProblem(file: file, line: 1, message: "the file is empty; at least `vips:` is needed")
            ])
        }
        if let reason = notAConfigReason(root) {
            throw ConfigErrors([UntrustedText.notAConfig(file, line: root.mark?.line ?? 1, kind, reason)])
        }
        let config = readConfig(root, reader)
        if reader.hasErrors || config == nil {
            throw ConfigErrors(reader.problems)
        }
        return LoadedConfig(config: config!, file: file, warnings: reader.problems, locations: reader.locations)
    }

    static let kind = "an ecmpd config"
    static let sections = ["node", "mode", "ospf", "ospf6", "routing", "status", "controller", "vips"]

    /// Why the document is plainly not an ecmpd config (/etc/shadow reads
    /// as a mapping of whole lines, a token file as one value), or nil.
    /// A misspelt section still gets its did-you-mean: only keys near no
    /// section count as foreign.
    static func notAConfigReason(_ root: Node) -> String? {
        let expected = "a mapping of sections (\(sections.joined(separator: ", ")))"
        switch root {
        case .scalar: return "it is a single value, not \(expected)"
        case .sequence: return "it is a list, not \(expected)"
        case .alias: return "it is an alias, not \(expected)"
        case .mapping(let mapping):
            var keys: [String?] = []
            for (key, _) in mapping {
                if keys.count == UntrustedText.judgedStatements { break }
                keys.append(key.scalar?.string)
            }
            let foreign = keys.allSatisfy { key in
                guard let key else { return true }
                return !sections.contains(key) && Suggestion.closest(to: key, among: sections) == nil
            }
            guard !keys.isEmpty, foreign else { return nil }
            let which =
                keys.count == 1 && mapping.count == 1
                ? "its only key is not"
                : keys.count < mapping.count
                    ? "none of its first \(keys.count) keys is" : "none of its \(keys.count) keys is"
            return "\(which) a section of one (\(sections.joined(separator: ", ")))"
        }
    }

    static func yamlProblem(_ error: YamlError, in text: String, file: String) -> ConfigProblem {
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _):
            return ConfigProblem(file: file, line: mark.line, column: mark.column, message: "YAML syntax: \(problem)")
        case .composer(_, let problem, let mark, _):
            return ConfigProblem(
                file: file, line: mark.line, column: mark.column, message: "YAML structure: \(problem)")
        case .duplicatedKeysInMapping(let duplicates, let context):
            return ConfigProblem(
                file: file, line: context.mark.line, column: context.mark.column,
                value: duplicates.prefix(3).map(UntrustedText.keyword).joined(separator: ", "),
                message: "duplicate key in the mapping that starts here; "
                    + "YAML parsers differ on which one wins")
        case .reader(let problem, let offset, _, _):
            // libyaml's reader knows only the byte offset; the line is what an editor jumps to.
            let (line, column) = SourceText.position(ofByte: offset ?? 0, in: text.utf8)
            return ConfigProblem(
                file: file, line: line, column: column,
                message: "unreadable YAML\(offset.map { " at byte offset \($0)" } ?? ""): \(problem)")
        default:
            return ConfigProblem(
                file: file, message: "YAML: \(String(describing: error).split(separator: "\n").first ?? "")")
        }
    }

    // MARK: Sections

    static func readConfig(_ root: Node, _ r: YAMLReader) -> Config? {
        guard let top = r.mapping(root, "", allowed: sections) else { return nil }
        var config = Config()
        if let node = top["node"] { config.node = readNode(node, top.path("node"), r) }
        if let node = top["mode"], let mode = r.choice(node, "mode", ControlMode.self) { config.mode = mode }
        if let node = top["ospf"] { config.ospf = readOSPF(node, "ospf", r) }
        if let node = top["ospf6"] { config.ospf6 = readOSPF(node, "ospf6", r, version: .v3) }
        if let node = top["routing"] { config.routing = readRouting(node, "routing", r) }
        if let node = top["status"], let fields = r.mapping(node, "status", allowed: ["listen"]) {
            if let listen = fields["listen"], let text = r.string(listen, "status.listen") {
                if let problem = StatusListenAddress.problem(text) {
                    r.report(listen, "status.listen", value: text, problem)
                } else {
                    config.status.listen = text
                    if !StatusListenAddress.isLoopback(text) {
                        r.warn(
                            listen, "status.listen", value: text,
                            "the status endpoint is reachable from beyond this host; it has no authentication")
                    }
                }
            }
        }
        if let node = top["controller"] { config.controller = readController(node, "controller", r) }
        guard let vipsNode = top["vips"] else {
            r.report(root, "vips", "missing: list at least one VIP")
            return nil
        }
        config.vips = readVIPs(vipsNode, config.mode, r)
        crossCheck(config, r)
        return config
    }

    static func readNode(_ node: Node, _ path: String, _ r: YAMLReader) -> NodeSettings {
        var settings = NodeSettings()
        guard let f = r.mapping(node, path, allowed: ["hostname", "state_dir"]) else { return settings }
        if let n = f["hostname"], let text = r.string(n, f.path("hostname")) {
            if Names.isHostname(text) {
                settings.hostname = text
            } else {
                r.report(
                    n, f.path("hostname"), value: text,
                    "a hostname is letters, digits, '-' and '.', at most 63 characters a label")
            }
        }
        if let n = f["state_dir"], let text = r.string(n, f.path("state_dir")) {
            if text.hasPrefix("/") {
                settings.stateDirectory = text
            } else {
                r.report(n, f.path("state_dir"), value: text, "must be an absolute path")
            }
        }
        return settings
    }

    static func readController(_ node: Node, _ path: String, _ r: YAMLReader) -> ControllerSettings {
        var s = ControllerSettings()
        let keys = [
            "poll_interval", "on_stop", "guard_last_announcer", "network_debounce", "drain_cost", "drain_wait",
            "keepalived_config",
        ]
        guard let f = r.mapping(node, path, allowed: keys) else { return s }
        if let n = f["poll_interval"],
            let v = r.duration(n, f.path("poll_interval"), range: .milliseconds(10) ... .seconds(60))
        {
            s.pollInterval = v
            if v > .milliseconds(500) {
                r.warn(
                    n, f.path("poll_interval"), value: DurationParser.format(v),
                    "withdrawal takes poll_interval × fall; above 500ms a failed director keeps traffic noticeably longer"
                )
            }
        }
        if let n = f["on_stop"], let v = r.choice(n, f.path("on_stop"), StopAction.self) { s.onStop = v }
        if let n = f["guard_last_announcer"], let v = r.bool(n, f.path("guard_last_announcer")) {
            s.guardLastAnnouncer = v
        }
        if let n = f["network_debounce"],
            let v = r.duration(n, f.path("network_debounce"), range: .zero ... .seconds(60))
        {
            s.networkDebounce = v
        }
        if let n = f["drain_cost"], let v = r.int(n, f.path("drain_cost"), range: 1...65535) { s.drainCost = v }
        if let n = f["drain_wait"], let v = r.duration(n, f.path("drain_wait"), range: .zero ... .seconds(3600)) {
            s.drainWait = v
        }
        if let n = f["keepalived_config"], let text = r.string(n, f.path("keepalived_config")) {
            if text.hasPrefix("/") {
                s.keepalivedConfig = text
            } else {
                r.report(n, f.path("keepalived_config"), value: text, "must be an absolute path")
            }
        }
        return s
    }

    /// Which OSPF a section configures: `ospf` (OSPFv2, ospfd, IPv4 VIPs) or
    /// `ospf6` (OSPFv3, ospf6d, IPv6 VIPs).
    enum OSPFVersion {
        case v2, v3
    }

    /// `ospf` and `ospf6`: one set of keys, defaults and rules for both, so
    /// the two sections cannot drift apart. OSPFv3's router-id is still a
    /// dotted quad (RFC 5340 section 2.9). ecmpd does not yet write
    /// OSPFv3's authentication trailer or BFD, so `ospf6` refuses those keys.
    static func readOSPF(_ node: Node, _ path: String, _ r: YAMLReader, version: OSPFVersion = .v2) -> OSPFSettings {
        var s = OSPFSettings()
        let keys = [
            "area", "interfaces", "hello_interval", "dead_interval", "priority", "cost", "lo_cost", "router_id",
            "authentication", "fast_convergence", "bfd",
        ]
        guard let f = r.mapping(node, path, allowed: keys) else { return s }
        if version == .v3 {
            for key in ["authentication", "bfd"] where f[key] != nil {
                r.report(
                    f[key], f.path(key),
                    "not supported for ospf6 yet: ecmpd writes \(key) for ospfd only (set it under ospf)")
            }
        }
        if let n = f["area"], let text = r.string(n, f.path("area")) {
            if let area = OSPFArea(text) {
                s.area = area
            } else {
                r.report(n, f.path("area"), value: text, "an area is a dotted quad (0.0.0.0) or a number")
            }
        }
        if let n = f["interfaces"] {
            if case .scalar = n, r.string(n, f.path("interfaces")) == "default" {
                s.interfaces = .defaultRoute
            } else if let items = r.sequence(n, f.path("interfaces")) {
                var names: [String] = []
                for (itemPath, item) in items {
                    guard let name = r.string(item, itemPath) else { continue }
                    if let problem = Names.interfaceProblem(name) {
                        r.report(item, itemPath, value: name, problem)
                    } else if names.contains(name) {
                        r.report(item, itemPath, value: name, "listed twice")
                    } else {
                        names.append(name)
                    }
                }
                if names.isEmpty, !items.isEmpty {
                } else if names.isEmpty {
                    r.report(
                        n, f.path("interfaces"), "empty: name at least one interface, or write `interfaces: default`")
                }
                s.interfaces = .named(names)
            }
        }
        if let n = f["hello_interval"], let v = r.int(n, f.path("hello_interval"), range: 1...65535) {
            s.helloInterval = v
        }
        if let n = f["dead_interval"], let v = r.int(n, f.path("dead_interval"), range: 1...65535) {
            s.deadInterval = v
        }
        if s.deadInterval <= s.helloInterval {
            r.report(
                f["dead_interval"] ?? f["hello_interval"] ?? node, f.path("dead_interval"), value: "\(s.deadInterval)",
                "must be greater than hello_interval (\(s.helloInterval)); usually 4 x hello")
        }
        if let n = f["priority"], let v = r.int(n, f.path("priority"), range: 0...255) {
            s.priority = v
            if v > 0 {
                r.warn(
                    n, f.path("priority"), value: "\(v)",
                    "a director with priority > 0 may become the designated router; the reference topology gives that role to the upstream router"
                )
            }
        }
        if let n = f["cost"], let v = r.int(n, f.path("cost"), range: 1...65535) { s.cost = v }
        if let n = f["lo_cost"], let v = r.int(n, f.path("lo_cost"), range: 1...65535) { s.loopbackCost = v }
        if let n = f["router_id"], let v = r.ipv4(n, f.path("router_id")) {
            if v.isUnspecified || v.isLoopback || v.isMulticast {
                r.report(
                    n, f.path("router_id"), value: "\(v)", "a router-id must be a unicast address of this director")
            } else {
                s.routerID = v
            }
        }
        if version == .v2, let n = f["authentication"],
            let a = r.mapping(n, f.path("authentication"), allowed: ["key_id", "key_file"])
        {
            let keyID = a["key_id"].flatMap { r.int($0, a.path("key_id"), range: 1...255) } ?? 1
            if let k = a["key_file"], let file = r.string(k, a.path("key_file")) {
                if file.hasPrefix("/") {
                    s.authentication = OSPFAuthentication(keyID: keyID, keyFile: file)
                } else {
                    r.report(k, a.path("key_file"), value: file, "must be an absolute path")
                }
            } else {
                r.report(n, a.path("key_file"), "missing: message-digest authentication reads its key from key_file")
            }
        }
        if let n = f["fast_convergence"], let v = r.bool(n, f.path("fast_convergence")) { s.fastConvergence = v }
        if version == .v2, let n = f["bfd"] { s.bfd = readBFD(n, f.path("bfd"), r) }
        return s
    }

    /// `ospf.bfd`: writing the section turns BFD on unless it says
    /// `enabled: false`. Intervals are durations in whole milliseconds
    /// within what FRR 8.4's bfdd accepts (10ms-60s); the multiplier 2-255.
    static func readBFD(_ node: Node, _ path: String, _ r: YAMLReader) -> BFDSettings {
        var s = BFDSettings(enabled: true)
        let keys = ["enabled", "receive_interval", "transmit_interval", "detect_multiplier", "echo_mode"]
        guard let f = r.mapping(node, path, allowed: keys) else { return s }
        if let n = f["enabled"], let v = r.bool(n, f.path("enabled")) { s.enabled = v }
        func milliseconds(_ key: String) -> Int? {
            guard let n = f[key] else { return nil }
            // A bare number would be read as seconds; BFD is configured in
            // milliseconds everywhere else (FRR, keepalived, MetalLB).
            if case .scalar(let scalar) = n, !scalar.string.isEmpty, scalar.string.allSatisfy(\.isASCIIDigit) {
                r.report(n, f.path(key), value: scalar.string, "give a unit, such as \(scalar.string)ms")
                return nil
            }
            let bounds = BFDSettings.intervalRange
            guard
                let v = r.duration(
                    n, f.path(key), range: .milliseconds(bounds.lowerBound) ... .milliseconds(bounds.upperBound))
            else { return nil }
            let (seconds, attoseconds) = v.components
            guard attoseconds % 1_000_000_000_000_000 == 0 else {
                r.report(n, f.path(key), value: DurationParser.format(v), "BFD intervals are whole milliseconds")
                return nil
            }
            return Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000)
        }
        if let v = milliseconds("receive_interval") { s.receiveIntervalMilliseconds = v }
        if let v = milliseconds("transmit_interval") { s.transmitIntervalMilliseconds = v }
        if let n = f["detect_multiplier"],
            let v = r.int(n, f.path("detect_multiplier"), range: BFDSettings.multiplierRange)
        {
            s.detectMultiplier = v
        }
        if let n = f["echo_mode"], let v = r.bool(n, f.path("echo_mode")) { s.echoMode = v }
        if s.enabled, s.detectionTimeMilliseconds < 150 {
            r.warn(
                node, path, value: "\(s.detectionTimeMilliseconds)ms",
                "detection time below 150ms: a busy director (IPVS, health checks) can miss it and drop out of the route while healthy"
            )
        }
        return s
    }

    static func readRouting(_ node: Node, _ path: String, _ r: YAMLReader) -> RoutingDaemonSettings {
        var s = RoutingDaemonSettings()
        let keys = [
            "flavour", "config_dir", "user", "group", "vtysh", "reload", "reload_command", "backups", "pathspace",
            "templates_dir",
        ]
        guard let f = r.mapping(node, path, allowed: keys) else { return s }
        if let n = f["flavour"], let v = r.choice(n, f.path("flavour"), RoutingDaemonFlavour.self) {
            s.flavour = v
            if v == .quagga {
                s.configDirectory = "/etc/quagga"; s.user = "quagga"; s.group = "quagga"; s.reload = .none
            }
        }
        for (key, assign) in [
            ("config_dir", { (v: String) in s.configDirectory = v }), ("vtysh", { s.vtysh = $0 }),
            ("templates_dir", { s.templatesDirectory = $0 }),
        ] {
            guard let n = f[key], let text = r.string(n, f.path(key)) else { continue }
            if text.hasPrefix("/") {
                assign(text)
            } else {
                r.report(n, f.path(key), value: text, "must be an absolute path")
            }
        }
        for (key, assign) in [("user", { (v: String) in s.user = v }), ("group", { s.group = $0 })] {
            guard let n = f[key], let text = r.string(n, f.path(key)) else { continue }
            if Names.isAccountName(text) {
                assign(text)
            } else {
                r.report(n, f.path(key), value: text, "not a valid user or group name")
            }
        }
        if let n = f["pathspace"], let text = r.string(n, f.path("pathspace")) {
            if Names.isAccountName(text) {
                s.pathspace = text
            } else {
                r.report(n, f.path("pathspace"), value: text, "a pathspace is letters, digits, '-' and '_'")
            }
        }
        if let n = f["backups"], let v = r.int(n, f.path("backups"), range: 0...100) { s.backups = v }
        var command: [String]?
        if let n = f["reload_command"], let items = r.sequence(n, f.path("reload_command")) {
            command = items.compactMap { r.string($0.1, $0.0) }
            if command?.first?.hasPrefix("/") != true {
                r.report(
                    n, f.path("reload_command"), value: command?.first,
                    "the first word must be an absolute path: the command runs without a shell")
            }
        }
        if let n = f["reload"], let text = r.string(n, f.path("reload")) {
            switch text {
            case "frr-reload": s.reload = .frrReload
            case "none": s.reload = .none
            case "command":
                if let command {
                    s.reload = .command(command)
                } else {
                    r.report(n, f.path("reload"), value: text, "needs reload_command: the argv to run")
                }
            default:
                r.report(n, f.path("reload"), value: text, "expected frr-reload, command or none")
            }
        } else if let command {
            s.reload = .command(command)
        }
        return s
    }

    // MARK: VIPs

    static func readVIPs(_ node: Node, _ mode: ControlMode, _ r: YAMLReader) -> [VIPConfig] {
        guard let items = r.sequence(node, "vips") else { return [] }
        if items.isEmpty { r.report(node, "vips", "empty: list at least one VIP") }
        var vips: [VIPConfig] = []
        var seen: [IPAddress: String] = [:]
        for (path, item) in items {
            guard let f = r.mapping(item, path, allowed: ["address", "name", "health", "fleet_consistent", "services"])
            else { continue }
            guard let addressNode = f["address"] else {
                r.report(item, f.path("address"), "missing: the VIP's IPv4 or IPv6 address")
                continue
            }
            guard let address = r.ipAddress(addressNode, f.path("address")) else { continue }
            if let refusal = address.reservedBlockRefusal {
                r.report(addressNode, f.path("address"), value: "\(address)", refusal)
                continue
            }
            if let first = seen[address] {
                r.report(addressNode, f.path("address"), value: "\(address)", "duplicate VIP (also \(first))")
                continue
            }
            seen[address] = path
            var vip = VIPConfig(address: address)
            if let n = f["name"] { vip.name = r.string(n, f.path("name")) }
            if let n = f["health"] { vip.health = readHealthPolicy(n, f.path("health"), r) }
            if let n = f["fleet_consistent"], let v = r.bool(n, f.path("fleet_consistent")) { vip.fleetConsistent = v }
            if let n = f["services"] {
                vip.services = readServices(
                    n, f.path("services"), vip: address, mode: mode, fleetConsistent: vip.fleetConsistent, r)
            } else if mode == .managed {
                r.warn(
                    item, f.path("services"), "no services: managed mode has nothing to check or program for this VIP")
            }
            vips.append(vip)
        }
        return vips
    }

    static func readHealthPolicy(_ node: Node, _ path: String, _ r: YAMLReader) -> HealthPolicy {
        var p = HealthPolicy()
        guard let f = r.mapping(node, path, allowed: ["min_healthy", "rise", "fall", "hold_down"]) else { return p }
        if let n = f["min_healthy"], let text = r.string(n, f.path("min_healthy")) {
            if text.hasSuffix("%"), let percent = Int(text.dropLast()), (1...100).contains(percent) {
                p.minimumHealthy = .percent(percent)
            } else if let count = Int(text), (1...100_000).contains(count) {
                p.minimumHealthy = .count(count)
            } else {
                r.report(
                    n, f.path("min_healthy"), value: text, "expected a count (1 or more) or a percentage such as 50%")
            }
        }
        if let n = f["rise"], let v = r.int(n, f.path("rise"), range: 1...1000) { p.rise = v }
        if let n = f["fall"], let v = r.int(n, f.path("fall"), range: 1...1000) { p.fall = v }
        if let n = f["hold_down"], let v = r.duration(n, f.path("hold_down"), range: .zero ... .seconds(86_400)) {
            p.holdDown = v
        }
        return p
    }

    static func readServices(
        _ node: Node, _ path: String, vip: IPAddress, mode: ControlMode, fleetConsistent: Bool = false,
        _ r: YAMLReader
    ) -> [VirtualService] {
        guard let items = r.sequence(node, path) else { return [] }
        var services: [VirtualService] = []
        var seen: [ServiceListener: String] = [:]
        let keys = [
            "protocol", "port", "fwmark", "scheduler", "scheduler_flags", "persistence", "forwarding", "real_servers",
            "quorum", "hysteresis", "sorry_server", "inhibit_on_failure",
        ]
        for (servicePath, item) in items {
            guard let f = r.mapping(item, servicePath, allowed: keys) else { continue }
            let listener: ServiceListener
            if let markNode = f["fwmark"] {
                if f["port"] != nil { r.report(markNode, f.path("fwmark"), "give either fwmark or port, not both") }
                guard let mark = r.int(markNode, f.path("fwmark"), range: 1...Int(UInt32.max)) else { continue }
                listener = .fwmark(UInt32(mark))
            } else if let portNode = f["port"] {
                guard let port = r.int(portNode, f.path("port"), range: 1...65535) else { continue }
                var proto = TransportProtocol.tcp
                if let n = f["protocol"], let v = r.choice(n, f.path("protocol"), TransportProtocol.self) { proto = v }
                listener = .port(proto, port)
            } else {
                r.report(item, f.path("port"), "missing: a service needs a port (with protocol) or a fwmark")
                continue
            }
            if let first = seen[listener] {
                r.report(
                    f["port"] ?? f["fwmark"], servicePath, value: listener.description,
                    "duplicate service on \(vip) (also \(first))")
                continue
            }
            seen[listener] = servicePath
            var service = VirtualService(listener: listener)
            if fleetConsistent && f["scheduler"] == nil {
                service.scheduler = "mh"
                if f["scheduler_flags"] == nil { service.schedulerFlags = MaglevFallback.fleetConsistentFlags }
            }
            if let n = f["scheduler"], let text = r.string(n, f.path("scheduler")) {
                if knownSchedulers.contains(text) {
                    service.scheduler = text
                    if fleetConsistent && text != "mh" {
                        r.warn(
                            n, f.path("scheduler"),
                            "the VIP is fleet_consistent, but \(text) lets each director pick its own real server: a flow moved to another director breaks; use mh (with scheduler_flags [mh-port, mh-fallback])"
                        )
                    }
                } else {
                    let hint =
                        Suggestion.closest(to: text, among: knownSchedulers).map { "did you mean '\($0)'? " } ?? ""
                    r.report(
                        n, f.path("scheduler"), value: text,
                        "\(hint)unknown IPVS scheduler; known: \(knownSchedulers.joined(separator: ", "))")
                }
            }
            if let n = f["scheduler_flags"], let flags = r.sequence(n, f.path("scheduler_flags")) {
                for (flagPath, flagNode) in flags {
                    guard let flag = r.string(flagNode, flagPath) else { continue }
                    if !knownSchedulerFlags.contains(flag) {
                        r.report(
                            flagNode, flagPath, value: flag,
                            "unknown scheduler flag; known: \(knownSchedulerFlags.joined(separator: ", "))")
                    } else if let prefix = flag.split(separator: "-").first, ["mh", "sh"].contains(prefix),
                        String(prefix) != service.scheduler
                    {
                        r.report(
                            flagNode, flagPath, value: flag,
                            "only meaningful with scheduler \(prefix), not \(service.scheduler)")
                    } else {
                        service.schedulerFlags.append(flag)
                    }
                }
            }
            if let n = f["persistence"] { service.persistence = readPersistence(n, f.path("persistence"), r) }
            if vip.ipv4 == nil, service.persistence?.netmask != nil {
                r.report(
                    f["persistence"], f.path("persistence") + ".netmask",
                    "a dotted netmask is for IPv4 VIPs; \(vip) is IPv6")
                service.persistence?.netmask = nil
            }
            if let n = f["forwarding"], let v = r.choice(n, f.path("forwarding"), ForwardingMethod.self) {
                service.forwarding = v
            }
            if let n = f["quorum"], let v = r.int(n, f.path("quorum"), range: 1...1_000_000) { service.quorum = v }
            if let n = f["hysteresis"], let v = r.int(n, f.path("hysteresis"), range: 0...1_000_000) {
                service.hysteresis = v
            }
            if let n = f["inhibit_on_failure"], let v = r.bool(n, f.path("inhibit_on_failure")) {
                service.inhibitOnFailure = v
            }
            if let n = f["sorry_server"] { service.sorryServer = readServerAddress(n, f.path("sorry_server"), r) }
            if let n = f["real_servers"] {
                service.realServers = readRealServers(
                    n, f.path("real_servers"), vip: vip, listener: listener, forwarding: service.forwarding, mode: mode,
                    r)
            } else {
                r.warn(item, f.path("real_servers"), "no real servers: this service can never be healthy")
            }
            if let reason = MaglevFallback.weightZeroRisk(of: service, mode: mode, fleetConsistent: fleetConsistent) {
                r.warn(
                    f["scheduler_flags"] ?? f["scheduler"] ?? item, f.path("scheduler_flags"),
                    value: service.schedulerFlags.joined(separator: ","), MaglevFallback.warning(reason))
            }
            services.append(service)
        }
        return services
    }

    static func readPersistence(_ node: Node, _ path: String, _ r: YAMLReader) -> Persistence? {
        if case .scalar = node {
            guard let timeout = r.int(node, path, range: 0...2_678_400) else { return nil }
            return timeout == 0 ? nil : Persistence(timeout: timeout)
        }
        guard let f = r.mapping(node, path, allowed: ["timeout", "netmask"]) else { return nil }
        guard let t = f["timeout"], let timeout = r.int(t, f.path("timeout"), range: 0...2_678_400) else {
            if f["timeout"] == nil {
                r.report(node, f.path("timeout"), "missing: persistence needs a timeout in seconds")
            }
            return nil
        }
        var persistence = Persistence(timeout: timeout)
        if let n = f["netmask"], let mask = r.ipv4(n, f.path("netmask")) {
            if Names.isContiguousMask(mask) {
                persistence.netmask = mask
            } else {
                r.report(n, f.path("netmask"), value: "\(mask)", "not a contiguous netmask such as 255.255.255.0")
            }
        }
        return timeout == 0 ? nil : persistence
    }

    static func readServerAddress(_ node: Node, _ path: String, _ r: YAMLReader) -> RealServerAddress? {
        guard let f = r.mapping(node, path, allowed: ["address", "port"]) else { return nil }
        guard let a = f["address"] else {
            r.report(node, f.path("address"), "missing")
            return nil
        }
        guard let address = r.ipAddress(a, f.path("address")) else { return nil }
        let port = f["port"].flatMap { r.int($0, f.path("port"), range: 1...65535) }
        return RealServerAddress(address: address, port: port)
    }

    static func readRealServers(
        _ node: Node, _ path: String, vip: IPAddress, listener: ServiceListener, forwarding: ForwardingMethod,
        mode: ControlMode,
        _ r: YAMLReader
    ) -> [RealServer] {
        guard let items = r.sequence(node, path) else { return [] }
        var servers: [RealServer] = []
        var seen: [RealServerAddress: String] = [:]
        for (serverPath, item) in items {
            guard
                let f = r.mapping(
                    item, serverPath, allowed: ["address", "port", "weight", "check", "keepalived_check"])
            else { continue }
            guard let a = f["address"] else {
                r.report(item, f.path("address"), "missing: the real server's address")
                continue
            }
            guard let address = r.ipAddress(a, f.path("address")) else { continue }
            var server = RealServer(address: address)
            if let n = f["port"], let v = r.int(n, f.path("port"), range: 1...65535) { server.port = v }
            if let n = f["weight"], let v = r.int(n, f.path("weight"), range: 0...65535) { server.weight = v }
            let key = RealServerAddress(address: address, port: server.port)
            if let first = seen[key] {
                r.report(a, serverPath, value: key.description, "duplicate real server (also \(first))")
                continue
            }
            seen[key] = serverPath
            if let n = f["keepalived_check"], let v = r.string(n, f.path("keepalived_check")) {
                server.droppedKeepalivedCheck = v
            }
            if let n = f["check"] {
                server.check = readCheck(n, f.path("check"), r)
                if server.check?.viaVIP == true {
                    if forwarding != .directRoute {
                        r.report(
                            n, f.path("check") + ".via_vip", value: forwarding.rawValue,
                            "via_vip is for direct-routing (dr) services: with \(forwarding.rawValue) the packet to "
                                + "the real server is not addressed to the VIP")
                        server.check?.viaVIP = false
                    } else if vip.ipv4 == nil || address.ipv4 == nil {
                        r.report(
                            n, f.path("check") + ".via_vip", value: "\(vip.ipv4 == nil ? vip : address)",
                            "via_vip needs an IPv4 VIP and an IPv4 real server (IPVS hooks local IPv4 traffic only)")
                        server.check?.viaVIP = false
                    }
                }
                if let n = f["keepalived_check"] {
                    r.report(n, f.path("keepalived_check"), "only for a server without a check (the import writes it)")
                }
            } else if let dropped = server.droppedKeepalivedCheck, mode == .managed {
                r.warn(
                    f["keepalived_check"], f.path("keepalived_check"), value: dropped,
                    "keepalived checked this server with \(dropped), which ecmpd does not support: without a check ecmpd takes it as always healthy, where keepalived took it out when the check failed; add a check"
                )
            } else if mode == .managed {
                r.warn(item, f.path("check"), "no check in managed mode: this server is always taken as healthy")
            }
            servers.append(server)
        }
        return servers
    }

    static let checkTypes = "tcp, http, https, exec, udp, dns or icmp"

    static func readCheck(_ node: Node, _ path: String, _ r: YAMLReader) -> HealthCheck? {
        let httpOnly = ["path", "status_codes", "digest", "host", "verify_certificate"]
        let udpOnly = ["payload", "expect", "require_reply", "min_reply_length", "max_reply_length"]
        let dnsOnly = ["query_name", "query_type", "rcode", "require_answer"]
        let keys =
            ["type", "interval", "timeout", "rise", "fall", "retries", "retry_delay", "connect_port", "command"]
            + httpOnly + udpOnly + dnsOnly + ["via_vip"]
        guard let f = r.mapping(node, path, allowed: keys) else { return nil }
        guard let t = f["type"], let type = r.string(t, f.path("type")) else {
            if f["type"] == nil { r.report(node, f.path("type"), "missing: \(checkTypes)") }
            return nil
        }
        /// Fields of other check types are errors, named with the type they belong to.
        func refuse(_ fields: [String], _ owner: String) {
            for key in fields where f[key] != nil { r.report(f[key], f.path(key), "only for \(owner) checks") }
        }
        var kind: HealthCheck.Kind
        switch type {
        case "tcp", "http", "https":
            if type == "tcp" {
                kind = .tcp
                refuse(httpOnly, "http/https")
            } else {
                kind = .http(readHTTPCheck(f, tls: type == "https", r))
            }
            refuse(["command"], "exec")
            refuse(udpOnly, "udp")
            refuse(dnsOnly, "dns")
        case "exec":
            refuse(httpOnly, "http/https")
            refuse(udpOnly, "udp")
            refuse(dnsOnly, "dns")
            guard let c = f["command"], let items = r.sequence(c, f.path("command")) else {
                if f["command"] == nil {
                    r.report(
                        node, f.path("command"), "missing: the argv to run, e.g. [/usr/lib/ecmpd/check-db, --fast]")
                }
                return nil
            }
            let argv = items.compactMap { r.string($0.1, $0.0) }
            guard let program = argv.first, program.hasPrefix("/") else {
                r.report(
                    c, f.path("command"), value: argv.first,
                    "the first word must be an absolute path: checks run without a shell")
                return nil
            }
            kind = .exec(argv: argv)
        case "udp":
            refuse(httpOnly, "http/https")
            refuse(["command"], "exec")
            refuse(dnsOnly, "dns")
            kind = .udp(readUDPCheck(f, r))
        case "dns":
            refuse(httpOnly, "http/https")
            refuse(["command"], "exec")
            refuse(udpOnly, "udp")
            guard let dns = readDNSCheck(f, r) else { return nil }
            kind = .dns(dns)
        case "icmp":
            refuse(httpOnly, "http/https")
            refuse(["command"], "exec")
            refuse(udpOnly, "udp")
            refuse(dnsOnly, "dns")
            if let n = f["connect_port"] {
                r.report(n, f.path("connect_port"), "an icmp check has no port: echo requests go to the address")
            }
            kind = .icmp
        default:
            r.report(t, f.path("type"), value: type, "expected \(checkTypes)")
            return nil
        }
        var check = HealthCheck(kind: kind)
        let limit: ClosedRange<Duration> = .milliseconds(10) ... .seconds(3600)
        if let n = f["interval"], let v = r.duration(n, f.path("interval"), range: limit) { check.interval = v }
        if let n = f["timeout"], let v = r.duration(n, f.path("timeout"), range: limit) { check.timeout = v }
        if let n = f["rise"], let v = r.int(n, f.path("rise"), range: 1...1000) { check.rise = v }
        if let n = f["fall"], let v = r.int(n, f.path("fall"), range: 1...1000) { check.fall = v }
        if let n = f["retries"], let v = r.int(n, f.path("retries"), range: 1...100) { check.retries = v }
        if let n = f["retry_delay"], let v = r.duration(n, f.path("retry_delay"), range: .zero ... .seconds(3600)) {
            check.retryDelay = v
        }
        if kind != .icmp, let n = f["connect_port"], let v = r.int(n, f.path("connect_port"), range: 1...65535) {
            check.connectPort = v
        }
        if let n = f["via_vip"] {
            if !VIPPathPlan.supportsViaVIP(kind) {
                r.report(n, f.path("via_vip"), "only for tcp, http and https checks: the probe is a TCP connection")
            } else if let v = r.bool(n, f.path("via_vip")) {
                check.viaVIP = v
            }
        }
        return check
    }

    static func readHTTPCheck(_ f: Fields, tls: Bool, _ r: YAMLReader) -> HTTPCheck {
        var http = HTTPCheck(tls: tls)
        if let n = f["path"], let v = r.string(n, f.path("path")) {
            if v.hasPrefix("/"), !v.contains(where: { $0 == " " || $0 == "\r" || $0 == "\n" }) {
                http.path = v
            } else {
                r.report(n, f.path("path"), value: v, "an HTTP path starts with '/' and has no spaces")
            }
        }
        if let n = f["status_codes"], let codes = r.sequence(n, f.path("status_codes")) {
            http.statusCodes = []
            for (codePath, code) in codes {
                // 200, or a range written as a string: "200-299".
                if let text = code.scalar?.string, text.contains("-") {
                    let bounds = text.split(separator: "-", omittingEmptySubsequences: false).map { Int($0) }
                    if bounds.count == 2, let low = bounds[0], let high = bounds[1], (100...599).contains(low),
                        (100...599).contains(high), low <= high
                    {
                        http.statusCodes += Array(low...high)
                    } else {
                        r.report(
                            code, codePath, value: text,
                            "expected a status code from 100 to 599 or a range such as 200-299")
                    }
                } else if let v = r.int(code, codePath, range: 100...599) {
                    http.statusCodes.append(v)
                }
            }
        }
        if let n = f["digest"], let v = r.string(n, f.path("digest")) {
            if v.count == 32, v.allSatisfy(\.isHexDigit) {
                http.digest = v.lowercased()
            } else {
                r.report(n, f.path("digest"), value: v, "an MD5 digest is 32 hex digits")
            }
        }
        if let n = f["host"] { http.host = r.string(n, f.path("host")) }
        if let n = f["verify_certificate"], let v = r.bool(n, f.path("verify_certificate")) {
            if tls {
                http.verifyCertificate = v
            } else {
                r.report(n, f.path("verify_certificate"), "only for type https")
            }
        }
        return http
    }

    static func readUDPCheck(_ f: Fields, _ r: YAMLReader) -> UDPCheck {
        var udp = UDPCheck()
        if let n = f["payload"], let v = r.string(n, f.path("payload")) {
            if v.isEmpty {
                udp.payload = []
            } else if let bytes = BytePattern(hex: v, wildcards: false), bytes.bytes.count <= 1472 {
                udp.payload = bytes.bytes
            } else {
                r.report(
                    n, f.path("payload"), value: v,
                    "expected hex bytes, e.g. \"0a0b 0c\" (at most 1472 bytes, one unfragmented datagram)")
            }
        }
        if let n = f["expect"], let v = r.string(n, f.path("expect")) {
            if let pattern = BytePattern(hex: v) {
                udp.expect = pattern
            } else {
                r.report(n, f.path("expect"), value: v, "expected hex bytes, x for any nibble, e.g. \"0a0bxx\"")
            }
        }
        if let n = f["require_reply"], let v = r.bool(n, f.path("require_reply")) { udp.requireReply = v }
        let lengths = 0...UDPCheck.largestReply
        if let n = f["min_reply_length"], let v = r.int(n, f.path("min_reply_length"), range: lengths) {
            udp.minimumReplyLength = v
        }
        if let n = f["max_reply_length"], let v = r.int(n, f.path("max_reply_length"), range: lengths) {
            udp.maximumReplyLength = v
        }
        if udp.minimumReplyLength > udp.maximumReplyLength {
            r.report(
                f["min_reply_length"], f.path("min_reply_length"), value: "\(udp.minimumReplyLength)",
                "above max_reply_length \(udp.maximumReplyLength): every reply would fail")
        }
        if !udp.requireReply {
            for key in ["expect", "min_reply_length", "max_reply_length"] where f[key] != nil {
                r.report(f[key], f.path(key), "needs require_reply: true (without a reply there is nothing to compare)")
            }
        }
        return udp
    }

    static func readDNSCheck(_ f: Fields, _ r: YAMLReader) -> DNSCheck? {
        var dns = DNSCheck()
        guard let n = f["query_name"], let name = r.string(n, f.path("query_name")) else {
            if f["query_name"] == nil {
                r.report(
                    f["type"], f.path("query_name"),
                    "missing: the name to ask for, e.g. example.org (\".\" for the root, as keepalived's default)")
            }
            return nil
        }
        do throws(DNSNameError) {
            _ = try DNSQuestion.labels(of: name)
            dns.name = name.hasSuffix(".") && name != "." ? String(name.dropLast()) : (name == "." ? "" : name)
        } catch {
            r.report(n, f.path("query_name"), value: name, error.description)
        }
        if let n = f["query_type"], let v = r.string(n, f.path("query_type")) {
            if let type = DNSRecordType(name: v) {
                dns.type = type
            } else {
                r.report(
                    n, f.path("query_type"), value: v, "expected A, AAAA, SOA, NS, MX, TXT, CNAME, PTR, SRV or TYPEn")
            }
        }
        if let n = f["rcode"], let v = r.string(n, f.path("rcode")) {
            if let rcode = DNSResponseCode(name: v) {
                dns.rcode = rcode
            } else {
                r.report(n, f.path("rcode"), value: v, "expected NOERROR, NXDOMAIN, SERVFAIL, REFUSED or 0-15")
            }
        }
        if let n = f["require_answer"], let v = r.bool(n, f.path("require_answer")) { dns.requireAnswer = v }
        return dns
    }

    // MARK: Checks across sections

    static func crossCheck(_ config: Config, _ r: YAMLReader) {
        // OSPFv3's router-id is a dotted quad too: an IPv4 VIP shared by the
        // fleet would collide there as well.
        for (section, settings) in [("ospf", config.ospf), ("ospf6", config.ospf6)] {
            guard let id = settings?.routerID, config.ipv4VIPs.contains(id) else { continue }
            let field = "\(section).router_id"
            let location = r.locations[field]
            r.report(
                nil, field, value: "\(id)",
                "equals a VIP: every director announces the VIP, so router-ids would collide")
            if let location { r.relocateLast(location) }
        }
        if config.ospf6 == nil, let (index, vip) = config.vips.enumerated().first(where: { $0.1.address.ipv6 != nil }) {
            let field = "vips[\(index)].address"
            let location = r.locations[field]
            r.report(
                nil, "ospf6", value: "\(vip.address)",
                "missing: \(field) is an IPv6 VIP, which ospf6d announces; add an ospf6 section "
                    + "(at least `ospf6: {router_id: A.B.C.D}`, or `ospf6: {}` for the defaults)")
            if let location { r.relocateLast(location) }
        }
        var marks: [UInt32: String] = [:]
        let probes = VIPPathPlan(config)
        for (v, vip) in config.vips.enumerated() {
            for (s, service) in vip.services.enumerated() {
                guard case .fwmark(let mark) = service.listener else { continue }
                let path = "vips[\(v)].services[\(s)].fwmark"
                if !probes.markOfPair.isEmpty, probes.marks.contains(mark) {
                    r.report(
                        nil, path, value: "\(mark)",
                        "fwmark inside the range via_vip checks use (\(probes.marks.lowerBound)-\(probes.marks.upperBound)); "
                            + "choose another mark")
                    if let location = r.locations[path] { r.relocateLast(location) }
                }
                if let first = marks[mark] {
                    r.report(
                        nil, path, value: "\(mark)",
                        "fwmark used by two services (also \(first)); IPVS keys fwmark services by mark alone")
                    if let location = r.locations[path] { r.relocateLast(location) }
                } else {
                    marks[mark] = path
                }
            }
        }
    }
}

extension YAMLReader {
    /// Moves the line of the last problem to `location` (for problems found
    /// after reading, when only the remembered position is at hand).
    func relocateLast(_ location: SourceLocation) {
        relocate(index: problems.count - 1, to: location)
    }
}
