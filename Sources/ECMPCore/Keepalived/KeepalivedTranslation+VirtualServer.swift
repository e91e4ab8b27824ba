/// `virtual_server` and `real_server` blocks (keepalived/check/check_parser.c).
///
/// keepalived resolves a virtual server only after reading all of it:
/// settings written after the real servers still apply to them, and
/// defaults (wlc, NAT, UDP, check timing) are filled in at the end
/// (check_data.c, `validate_check_config`). The translation does the same:
/// it collects a draft, then builds the services.
extension KeepalivedTranslation {
    /// Check settings a virtual_server or real_server hands down to its checks.
    struct CheckDefaults {
        var delayLoop: Duration?
        var connectTimeout: Duration?
        var retry: Int?
        var delayBeforeRetry: Duration?
        var virtualhost: String?
    }

    struct RealServerDraft {
        var statement: KeepalivedStatement
        var address: IPAddress
        var port: Int?
        var weight: Int?
        var inhibit: Bool?
        var forwarding: (method: ForwardingMethod, statement: KeepalivedStatement)?
        var defaults = CheckDefaults()
        var checks: [CheckDraft] = []
        /// Checkers keepalived ran here that ecmpd has no counterpart for.
        var droppedCheckers: [KeepalivedStatement] = []
    }

    struct VirtualServerDraft {
        var scheduler: String?
        /// Flags as written, with the scheduler set when keepalived read
        /// them: it drops `sh-port` read before `lb_algo sh`.
        var flags: [(keyword: String, schedulerThen: String?, statement: KeepalivedStatement)] = []
        var forwarding: ForwardingMethod?
        /// `ip_family inet|inet6` as written.
        var family: (value: String, statement: KeepalivedStatement)?
        var persistenceTimeout: Int?
        var granularity: IPv4Address?
        var transport: (value: TransportProtocol, statement: KeepalivedStatement)?
        var quorum: Int?
        var hysteresis = 0
        var hysteresisStatement: KeepalivedStatement?
        var haSuspend: KeepalivedStatement?
        var sorry: (address: RealServerAddress, statement: KeepalivedStatement)?
        var inhibit = false
        var weight: Int?
        var defaults = CheckDefaults()
        var realServers: [RealServerDraft] = []

        /// The real_server block an imported server came from.
        func realServer(_ server: RealServer) -> RealServerDraft? {
            realServers.first { $0.address == server.address && $0.port == server.port }
        }
    }

    enum Target {
        case address(IPAddress, port: Int)
        /// With the group's `fwmark N` line when it came from a group.
        case fwmark(UInt32, groupEntry: KeepalivedStatement?)
    }

    /// IPVS's default persistence (keepalived's IPVS_SVC_PERSISTENT_TIMEOUT),
    /// used for a bare `persistence_timeout` and for a granularity without a
    /// timeout.
    static let defaultPersistenceTimeout = 360
    static let checkTimeRange: ClosedRange<Duration> = .milliseconds(10) ... .seconds(3600)
    static let retryDelayRange: ClosedRange<Duration> = .zero ... .seconds(3600)
    /// ecmpd counts attempts (1-100); keepalived counts retries after the first.
    static let retryRange = 0...99

    func translateVirtualServer(_ statement: KeepalivedStatement) {
        let targets = targets(of: statement)
        guard let block = statement.block else {
            error(statement, "has no { } block: no real servers to import")
            return
        }
        var draft = VirtualServerDraft()
        for child in block {
            guard let keyword = keyword(of: child, in: .virtualServer) else { continue }
            read(keyword, child, into: &draft)
        }
        guard !targets.isEmpty else { return }
        build(draft, statement, targets: targets)
    }

    // MARK: What the virtual server is for

    func targets(of statement: KeepalivedStatement) -> [Target] {
        let arguments = statement.arguments
        guard let first = arguments.first else {
            error(statement, "needs an address and a port, `fwmark N` or `group NAME`")
            return []
        }
        switch first {
        case "fwmark":
            guard let mark = number(statement, at: 2, range: 1...Int(UInt32.max), what: "firewall mark") else {
                return []
            }
            expectArguments(statement, 2)
            return [.fwmark(UInt32(mark), groupEntry: nil)]
        case "group":
            guard let name = argument(statement, at: 2, what: "virtual_server_group name") else { return [] }
            guard let entries = groups[name] else {
                error(statement, value: name, "no virtual_server_group has this name")
                return []
            }
            return entries.flatMap { entry -> [Target] in
                switch entry {
                case .addresses(let addresses, let port): return addresses.map { .address($0, port: port) }
                case .fwmark(let mark, let entry): return [.fwmark(mark, groupEntry: entry)]
                }
            }
        default:
            guard let address = IPAddress(first) else {
                error(statement, value: first, "not an IPv4 or IPv6 address")
                return []
            }
            if let refusal = address.reservedBlockRefusal {
                error(statement, value: first, refusal)
                return []
            }
            guard arguments.count >= 2, let port = Int(arguments[1]), (1...65535).contains(port) else {
                error(
                    statement, value: arguments.count >= 2 ? arguments[1] : nil,
                    "ecmpd services need a port from 1 to 65535; a virtual server for all ports (persistent, port 0) cannot be imported: mark its packets and use a fwmark virtual_server"
                )
                return []
            }
            expectArguments(statement, 2)
            return [.address(address, port: port)]
        }
    }

    // MARK: Settings

    /// The check timing keywords keepalived accepts at virtual-server,
    /// real-server and checker level alike. `retry` takes 1 or more above a
    /// checker, 0 or more inside one.
    func readCheckDefault(
        _ keyword: String, _ child: KeepalivedStatement, into defaults: inout CheckDefaults, minimumRetry: Int
    ) {
        expectArguments(child, 1)
        switch keyword {
        case "delay_loop":
            if let value = timer(child, range: Self.checkTimeRange) { defaults.delayLoop = value }
        case "connect_timeout":
            if let value = timer(child, range: Self.checkTimeRange) { defaults.connectTimeout = value }
        case "retry", "nb_get_retry":
            if let value = number(child, range: minimumRetry...Self.retryRange.upperBound, what: "number of retries") {
                defaults.retry = value
            }
        case "delay_before_retry":
            if let value = timer(child, range: Self.retryDelayRange) { defaults.delayBeforeRetry = value }
        case "virtualhost":
            if let value = argument(child, what: "host name") { defaults.virtualhost = value }
        default:
            preconditionFailure("not a check timing keyword: \(keyword)")
        }
    }

    func read(_ keyword: String, _ child: KeepalivedStatement, into draft: inout VirtualServerDraft) {
        switch keyword {
        case "delay_loop", "connect_timeout", "retry", "delay_before_retry", "virtualhost":
            readCheckDefault(keyword, child, into: &draft.defaults, minimumRetry: 1)
        case "lb_algo", "lvs_sched":
            expectArguments(child, 1)
            if let value = scheduler(child) { draft.scheduler = value }
        case "lb_kind", "lvs_method":
            if let value = forwardingMethod(child) { draft.forwarding = value }
        case "persistence_timeout":
            readPersistenceTimeout(child, into: &draft)
        case "persistence_granularity":
            expectArguments(child, 1)
            if let value = granularity(child) { draft.granularity = value }
        case "protocol":
            expectArguments(child, 1)
            guard let text = argument(child, what: "protocol") else { return }
            // keepalived compares with strcasecmp: tcp, TCP and Tcp all work.
            if let value = TransportProtocol(rawValue: text.lowercased()) {
                draft.transport = (value, child)
            } else {
                error(child, value: text, "expected TCP, UDP or SCTP")
            }
        case "ha_suspend":
            draft.haSuspend = child
        case "quorum":
            expectArguments(child, 1)
            if let value = number(child, range: 1...1_000_000, what: "quorum (a sum of weights)") {
                draft.quorum = value
            }
        case "hysteresis":
            expectArguments(child, 1)
            if let value = number(child, range: 0...1_000_000, what: "hysteresis") {
                draft.hysteresis = value; draft.hysteresisStatement = child
            }
        case "sorry_server":
            if let value = serverAddress(child, what: "sorry server") { draft.sorry = (value, child) }
        case "inhibit_on_failure":
            // keepalived 2.2.7's virtual_server handler sets inhibit and never
            // looks at a value (the real_server one does).
            if let value = child.arguments.first, !["true", "on", "yes"].contains(value) {
                warn(child, value: value, "keepalived ignores any value here and inhibits anyway; imported as on")
            }
            draft.inhibit = true
        case "weight":
            expectArguments(child, 1)
            if let value = number(child, range: 1...65535, what: "default real server weight") { draft.weight = value }
        case "ip_family":
            expectArguments(child, 1)
            guard let value = argument(child, what: "address family") else { return }
            if value == "inet6" || value == "inet" {
                draft.family = (value, child)
            } else {
                error(child, value: value, "expected inet or inet6")
            }
        case "ops", "sh-port", "sh-fallback", "mh-port", "mh-fallback", "flag-1", "flag-2", "flag-3":
            draft.flags.append((keyword, draft.scheduler, child))
        case "real_server":
            if let server = readRealServer(child) { draft.realServers.append(server) }
        default:
            break
        }
    }

    func readPersistenceTimeout(_ child: KeepalivedStatement, into draft: inout VirtualServerDraft) {
        expectArguments(child, 1)
        guard let text = child.arguments.first else {
            draft.persistenceTimeout = Self.defaultPersistenceTimeout
            return
        }
        if text.allSatisfy({ $0 == "0" }) {
            warn(
                child, value: text,
                "0 means no persistence; keepalived 2.2.7 reports it as outside 1-2678400 and ignores the line, with the same result"
            )
            draft.persistenceTimeout = nil
            return
        }
        if let value = number(child, range: 1...2_678_400, what: "persistence timeout in seconds") {
            draft.persistenceTimeout = value
        }
    }

    func scheduler(_ child: KeepalivedStatement) -> String? {
        guard let name = argument(child, what: "scheduler") else { return nil }
        let known = ConfigParser.knownSchedulers
        if known.contains(name) { return name }
        let hint = Suggestion.closest(to: name, among: known).map { "did you mean '\($0)'? " } ?? ""
        error(child, value: name, "\(hint)not an IPVS scheduler; keepalived knows \(known.joined(separator: ", "))")
        return nil
    }

    /// `DR`, `NAT` or `TUN`, upper case as keepalived compares them.
    func forwardingMethod(_ child: KeepalivedStatement) -> ForwardingMethod? {
        guard let kind = argument(child, what: "forwarding method (DR, NAT or TUN)") else { return nil }
        let methods: [String: ForwardingMethod] = ["DR": .directRoute, "NAT": .nat, "TUN": .tunnel]
        guard let method = methods[kind] else {
            let right = kind.uppercased().hasPrefix("TUN") ? "TUN" : methods.keys.first { $0 == kind.uppercased() }
            let hint = right.map { "did you mean '\($0)'? " } ?? ""
            error(child, value: kind, "\(hint)expected DR, NAT or TUN, in upper case as keepalived requires")
            return nil
        }
        let options = child.arguments.dropFirst()
        if !options.isEmpty, Array(options) != ["type", "ipip"] {
            warn(
                child, value: options.joined(separator: " "),
                "tunnel options are not supported: ecmpd's TUN services use plain IPIP")
        }
        return method
    }

    /// The persistence netmask. keepalived also takes non-contiguous masks
    /// (so does the kernel); ecmpd wants a prefix.
    func granularity(_ child: KeepalivedStatement) -> IPv4Address? {
        guard let text = argument(child, what: "netmask") else { return nil }
        guard let mask = IPv4Address(text) else {
            let message =
                text.allSatisfy(\.isASCIIDigit)
                ? "an IPv6 prefix length: ecmpd's persistence netmask is for IPv4 services only"
                : "expected a netmask such as 255.255.255.0"
            error(child, value: text, message)
            return nil
        }
        guard Names.isContiguousMask(mask) else {
            error(child, value: text, "ecmpd takes a contiguous netmask such as 255.255.255.0")
            return nil
        }
        return mask
    }

    /// `ADDRESS [PORT]`, port 0 meaning none (as keepalived reads it).
    func serverAddress(_ child: KeepalivedStatement, what: String) -> RealServerAddress? {
        guard let text = argument(child, what: "\(what) address") else { return nil }
        guard let address = IPAddress(text) else {
            error(child, value: text, "not an IP address")
            return nil
        }
        var port: Int?
        if child.arguments.count >= 2 {
            guard let value = number(child, at: 2, range: 0...65535, what: "port") else { return nil }
            port = value == 0 ? nil : value
        }
        expectArguments(child, 2)
        return RealServerAddress(address: address, port: port)
    }

    // MARK: Real servers

    func readRealServer(_ statement: KeepalivedStatement) -> RealServerDraft? {
        guard let address = serverAddress(statement, what: "real server") else { return nil }
        var draft = RealServerDraft(statement: statement, address: address.address, port: address.port)
        guard let block = statement.block else {
            warn(statement, "has no { } block: no weight, no check; keepalived reports a missing '{'")
            return draft
        }
        for child in block {
            if ["SMTP_CHECK", "FILE_CHECK", "BFD_CHECK"].contains(child.keyword) {
                draft.droppedCheckers.append(child)
            }
            guard let keyword = keyword(of: child, in: .realServer) else { continue }
            switch keyword {
            case "weight":
                expectArguments(child, 1)
                if let value = number(child, range: 0...65535, what: "weight") { draft.weight = value }
            case "inhibit_on_failure":
                expectArguments(child, 1)
                if let value = onOff(child) { draft.inhibit = value }
            case "lvs_method":
                if let value = forwardingMethod(child) { draft.forwarding = (value, child) }
            case "delay_loop", "connect_timeout", "retry", "delay_before_retry", "virtualhost":
                readCheckDefault(keyword, child, into: &draft.defaults, minimumRetry: 1)
            default:
                if let check = readCheck(child, keyword) { draft.checks.append(check) }
            }
        }
        return draft
    }

    // MARK: Building the services

    func build(_ draft: VirtualServerDraft, _ statement: KeepalivedStatement, targets: [Target]) {
        let scheduler =
            draft.scheduler
            ?? {
                warn(statement, field: "lb_algo", "no lb_algo: keepalived uses wlc, and so does the import")
                return "wlc"
            }()
        let forwarding = serviceForwarding(of: draft, statement)
        let flags = schedulerFlags(draft.flags, scheduler: scheduler)
        var persistence: Persistence?
        if let timeout = draft.persistenceTimeout ?? (draft.granularity != nil ? Self.defaultPersistenceTimeout : nil) {
            persistence = Persistence(timeout: timeout, netmask: draft.granularity)
        }
        var hysteresis = draft.hysteresis
        if let statement = draft.hysteresisStatement, hysteresis >= (draft.quorum ?? 1) {
            hysteresis = (draft.quorum ?? 1) - 1
            warn(
                statement, value: "\(draft.hysteresis)",
                "hysteresis must stay below the quorum (\(draft.quorum ?? 1)); keepalived lowers it to \(hysteresis), and so does the import"
            )
        }
        // A fwmark service's VIP is of its ip_family (inet by default).
        let targetFamilies = Set(
            targets.map { target -> String in
                if case .address(let address, _) = target { return Self.familyName(address) }
                return draft.family?.value ?? "inet"
            })
        let inhibit = inhibitOnFailure(of: draft)
        let servers = realServers(of: draft, forwarding: forwarding, vipFamilies: targetFamilies)
        let atRisk = VirtualService(
            listener: .fwmark(0), scheduler: scheduler, schedulerFlags: flags,
            realServers: servers, inhibitOnFailure: inhibit)
        if let reason = MaglevFallback.weightZeroRisk(of: atRisk, mode: .managed, fleetConsistent: false) {
            // keepalived itself runs this table: the same drops happen today.
            warn(
                statement, field: "scheduler_flags", value: flags.joined(separator: ","), MaglevFallback.warning(reason)
            )
        }
        if servers.isEmpty {
            warn(statement, "no real servers: this service can never be healthy")
        }
        if let sorry = draft.sorry, forwarding != .tunnel,
            let vipFamily = targetFamilies.first(where: { $0 != Self.familyName(sorry.address.address) })
        {
            error(
                sorry.statement, value: sorry.address.address.description,
                "an \(Self.familyWord(Self.familyName(sorry.address.address))) sorry server behind an \(Self.familyWord(vipFamily)) VIP needs lb_kind TUN; keepalived skips it"
            )
        }
        if let family = draft.family {
            for target in targets {
                switch target {
                case .address(let address, _) where Self.familyName(address) != family.value:
                    error(
                        family.statement, value: family.value,
                        "does not match the virtual server's address \(address) (\(Self.familyName(address)))")
                default:
                    break
                }
            }
        }
        if draft.granularity != nil, targetFamilies.contains("inet6") {
            error(
                statement, field: "persistence_granularity",
                "an IPv6 service's persistence has no netmask in ecmpd (IPv4 services only); remove it")
        }

        if let suspend = draft.haSuspend {
            let onlyFwmarks = !targets.contains { target in
                if case .address = target { return true }
                return false
            }
            if onlyFwmarks {
                warn(suspend, "keepalived ignores ha_suspend for fwmark services (it clears it); so does the import")
            } else {
                haSuspend.append(suspend.location)
                warn(
                    suspend,
                    """
                    keepalived suspends this virtual server's checks while the VIP is not on this director. \
                    ecmpd withdraws the VIP when the backends fail: a keepalived with ha_suspend then stops checking, \
                    never sees the backends recover, and the VIP never comes back. The imported config drops it \
                    (ecmpd checks on its own in managed mode); remove ha_suspend from every keepalived.conf that keeps \
                    running beside ecmpd
                    """)
            }
        }

        // A group target repeats the same settings; say each thing once.
        var said: Set<String> = []
        func once(_ topic: String) -> Bool { said.insert(topic).inserted }
        for target in targets {
            var service = VirtualService(
                listener: .fwmark(0), scheduler: scheduler, schedulerFlags: flags, persistence: persistence,
                forwarding: forwarding, realServers: servers, quorum: draft.quorum == 1 ? nil : draft.quorum,
                hysteresis: hysteresis, sorryServer: draft.sorry?.address, inhibitOnFailure: inhibit
            )
            var vip: IPAddress?
            var groupEntry: KeepalivedStatement?
            switch target {
            case .address(let address, let port):
                vip = address
                let transport = draft.transport?.value ?? .udp
                service.listener = .port(transport, port)
                if draft.transport == nil, once("protocol") {
                    warn(
                        statement, field: "protocol",
                        "no protocol: keepalived defaults to UDP, and so does the import; add `protocol TCP` if that was meant"
                    )
                }
                if transport != .udp, service.schedulerFlags.contains("one-packet") {
                    if once("ops"), let ops = draft.flags.first(where: { $0.keyword == "ops" }) {
                        warn(
                            ops.statement,
                            "one-packet scheduling is for UDP; keepalived drops it from \(transport.rawValue.uppercased()) services, and so does the import"
                        )
                    }
                    service.schedulerFlags.removeAll { $0 == "one-packet" }
                }
                // check_data.c resets the sorry server's port only without NAT:
                // NAT can send sorry traffic to another port.
                if forwarding != .nat, let sorry = draft.sorry, let sorryPort = sorry.address.port, sorryPort != port {
                    if once("sorry port") {
                        warn(
                            sorry.statement, value: "\(sorryPort)",
                            "keepalived sets the sorry server's port to the service's (\(port)), and so does the import"
                        )
                    }
                    service.sorryServer?.port = port
                }
                // check_data.c: without NAT a real server's port is the
                // service's; keepalived resets one that differs.
                if forwarding != .nat {
                    let announce = once("real server ports")
                    for index in service.realServers.indices {
                        guard let written = service.realServers[index].port, written != port else { continue }
                        if announce, let server = draft.realServer(service.realServers[index]) {
                            warn(
                                server.statement, value: "\(written)",
                                "IPVS cannot change the port with DR or TUN forwarding; keepalived resets it to the service's \(port), and so does the import (its check keeps port \(written))"
                            )
                        }
                        keepCheckPort(of: &service.realServers[index], written)
                        service.realServers[index].port = port
                    }
                }
                for server in service.realServers where server.port == nil && checksAPort(server) {
                    if once("no port \(server.address)"), let written = draft.realServer(server) {
                        warn(
                            written.statement,
                            "names no port: keepalived's check connects to port 0 and always fails; ecmpd checks the service's port \(port)"
                        )
                    }
                }
            case .fwmark(let mark, let entry):
                groupEntry = entry
                service.listener = .fwmark(mark)
                if forwarding != .nat {
                    let announce = once("fwmark real server ports")
                    for index in service.realServers.indices {
                        guard let written = service.realServers[index].port else { continue }
                        if announce, let server = draft.realServer(service.realServers[index]) {
                            warn(
                                server.statement, value: "\(written)",
                                "a fwmark service forwards packets to the port they were sent to; keepalived clears a real server's port without NAT, and so does the import (its check keeps port \(written))"
                            )
                        }
                        keepCheckPort(of: &service.realServers[index], written)
                        service.realServers[index].port = nil
                    }
                }
                for server in service.realServers where server.port == nil && checksAPort(server) {
                    if once("no port \(server.address)"), let written = draft.realServer(server) {
                        warn(
                            written.checks.first?.statement ?? written.statement,
                            "a fwmark service's real server has no port to check: keepalived's check connects to port 0 and always fails; add connect_port"
                        )
                    }
                }
                if let transport = draft.transport, once("fwmark protocol") {
                    warn(
                        transport.statement,
                        "a fwmark service matches marked packets of any protocol; keepalived ignores protocol here, and so does the import"
                    )
                }
                if forwarding != .nat, let sorry = draft.sorry, sorry.address.port != nil {
                    if once("fwmark sorry port") {
                        warn(
                            sorry.statement,
                            "keepalived clears the sorry server's port for a fwmark service, and so does the import")
                    }
                    service.sorryServer?.port = nil
                }
            }
            services.append(
                ImportedService(
                    vip: vip, service: service, statement: statement, groupEntry: groupEntry,
                    inet6: vip == nil && draft.family?.value == "inet6"))
        }
    }

    /// `inet` or `inet6`, as keepalived's ip_family words them.
    static func familyName(_ address: IPAddress) -> String { address.ipv4 == nil ? "inet6" : "inet" }

    static func familyWord(_ family: String) -> String { family == "inet6" ? "IPv6" : "IPv4" }

    /// keepalived's checker copies the real server's address and port when
    /// it is read (check_api.c, `queue_checker`); fixing the server's port
    /// later does not move the check.
    func keepCheckPort(of server: inout RealServer, _ written: Int) {
        if checksAPort(server) { server.check?.connectPort = written }
    }

    /// A TCP, HTTP, UDP or DNS check that would go to the server's own port.
    func checksAPort(_ server: RealServer) -> Bool {
        guard let check = server.check, check.connectPort == nil else { return false }
        switch check.kind {
        case .exec, .icmp: return false
        default: return true
        }
    }

    /// lb_kind; failing that, the method every real server names; failing
    /// that NAT, keepalived's default.
    func serviceForwarding(of draft: VirtualServerDraft, _ statement: KeepalivedStatement) -> ForwardingMethod {
        var method = draft.forwarding
        if method == nil {
            let named = Set(draft.realServers.compactMap { $0.forwarding?.method })
            if named.count == 1, draft.realServers.allSatisfy({ $0.forwarding != nil }) { method = named.first }
        }
        let forwarding =
            method
            ?? {
                warn(
                    statement, field: "lb_kind",
                    "no lb_kind: keepalived forwards with NAT, and so does the import; add `lb_kind DR` for direct routing"
                )
                return .nat
            }()
        for server in draft.realServers {
            if let own = server.forwarding, own.method != forwarding {
                warn(
                    own.statement, value: own.statement.arguments.first,
                    "ecmpd forwards all real servers of a service the same way; this one is imported with the service's \(forwarding.rawValue)"
                )
            }
        }
        return forwarding
    }

    /// IPVS flag names as ecmpd writes them. `flag-1` and `flag-2` are the
    /// kernel's SCHED1/SCHED2 bits: fallback and port for both sh and mh.
    func schedulerFlags(
        _ written: [(keyword: String, schedulerThen: String?, statement: KeepalivedStatement)], scheduler: String
    ) -> [String] {
        var flags: [String] = []
        for flag in written {
            var name: String?
            switch flag.keyword {
            case "ops":
                name = "one-packet"
            case "flag-1", "flag-2":
                if scheduler == "sh" || scheduler == "mh" {
                    name = scheduler + (flag.keyword == "flag-1" ? "-fallback" : "-port")
                } else {
                    warn(flag.statement, "\(flag.keyword) means nothing to the \(scheduler) scheduler; ignored")
                }
            case "flag-3":
                warn(flag.statement, "no IPVS scheduler uses flag-3; ignored")
            default:
                let prefix = String(flag.keyword.prefix(2))
                if flag.schedulerThen == prefix, scheduler == prefix {
                    name = flag.keyword
                } else {
                    warn(
                        flag.statement,
                        "keepalived applies \(flag.keyword) only after `lb_algo \(prefix)` and ignored it here; so does the import"
                    )
                }
            }
            if let name, !flags.contains(name) { flags.append(name) }
        }
        return flags
    }

    /// ecmpd has one inhibit_on_failure per service; keepalived has one per
    /// real server, defaulting to the virtual server's.
    func inhibitOnFailure(of draft: VirtualServerDraft) -> Bool {
        let values = draft.realServers.map { $0.inhibit ?? draft.inhibit }
        guard let first = values.first, values.contains(where: { $0 != first }) else {
            return values.first ?? draft.inhibit
        }
        for server in draft.realServers where (server.inhibit ?? draft.inhibit) != draft.inhibit {
            warn(
                server.statement, field: "inhibit_on_failure", value: server.inhibit! ? "on" : "off",
                "ecmpd sets inhibit_on_failure for a whole service; this real server differs from its virtual server, whose \(draft.inhibit ? "on" : "off") is imported"
            )
        }
        return draft.inhibit
    }

    func realServers(of draft: VirtualServerDraft, forwarding: ForwardingMethod, vipFamilies: Set<String>)
        -> [RealServer]
    {
        var servers: [RealServer] = []
        var seen: [RealServerAddress: KeepalivedStatement] = [:]
        for server in draft.realServers {
            let key = RealServerAddress(address: server.address, port: server.port)
            if let first = seen[key] {
                warn(
                    server.statement, value: key.description,
                    "listed twice in this virtual_server (also at line \(first.location.line)); keepalived drops the second, and so does the import"
                )
                continue
            }
            seen[key] = server.statement
            let family = Self.familyName(server.address)
            if forwarding != .tunnel, let vipFamily = vipFamilies.first(where: { $0 != family }) {
                error(
                    server.statement, value: server.address.description,
                    "an \(Self.familyWord(family)) real server behind an \(Self.familyWord(vipFamily)) VIP needs lb_kind TUN; keepalived skips it"
                )
                continue
            }
            var imported = RealServer(
                address: server.address, port: server.port, weight: server.weight ?? draft.weight ?? 1)
            if let first = server.checks.first {
                imported.check = healthCheck(first, server: server.defaults, virtualServer: draft.defaults)
                for other in server.checks.dropFirst() {
                    warn(
                        other.statement,
                        "ecmpd runs one check per real server, keepalived wanted every check to pass; only the \(first.statement.keyword) at line \(first.statement.location.line) is imported"
                    )
                }
            } else if let dropped = server.droppedCheckers.first {
                // keepalived did check this server: say what changes.
                imported.droppedKeepalivedCheck = dropped.keyword
                warn(
                    dropped, value: key.description,
                    "keepalived checked this real server with \(dropped.keyword), which ecmpd does not support: imported without a check, so ecmpd takes it as always healthy where keepalived took it out when the check failed; add a check (tcp, exec...) by hand"
                )
            } else {
                warn(
                    server.statement, value: key.description,
                    "no check: ecmpd takes this server as always healthy, as keepalived did")
            }
            servers.append(imported)
        }
        return servers
    }
}
